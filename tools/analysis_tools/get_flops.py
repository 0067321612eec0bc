# Copyright (c) mmvp contributors. All rights reserved.
"""Parameters and multiply-accumulates (MACs) of one predicted sequence.

Builds the model of a config, runs one batch-1 sequence in tensor mode
(``in_frames + out_frames - 1`` recurrent steps) and counts every executed
convolution, transposed convolution and MotionGRU warp with forward hooks,
following model_equations.md#counting-parameters-and-macs (the MotionRNN
paper's Table 2):

* params: parameters of the executed conv layers (thop style; no bare
  Hadamard peepholes, no norm affine weights), plus the all-parameter total;
* MACs in two conventions that differ for transposed convolutions: ``thop``
  (output elements x C_in x k^2, 4x too many for stride 2) and ``true``
  (input elements x C_out x k^2).

By default the model runs on the ``meta`` device (shapes only), which takes
a second even for the 300 GMAC E3D-LSTM sequence.

Examples::

    # the paper's Human3.6M sequence: 4 -> 4 frames of 128 x 128 RGB
    python tools/analysis_tools/get_flops.py \\
        configs/motionrnn_predrnn_vmnist.py --h36m
    # the config's own sequence at 64 x 64, JSON output
    python tools/analysis_tools/get_flops.py configs/convlstm_vmnist.py \\
        --shape 64 64 --json work_dirs/convlstm_flops.json
"""
import argparse
import json
import os.path as osp
import sys

import torch
from mmengine.config import Config

from mmvp.utils import atomic_write_text, register_all_modules
from mmvp.utils.cli import add_cfg_options_arg

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
# the counter beside this file
import complexity as cx  # noqa: E402

# Where mmvp's counts differ from the reference implementation although the
# function computed is the same (model_equations.md#mim, #e3d-lstm and
# #counting-parameters-and-macs).
NOTES = {
    'MIM': ('OpenSTL also runs the MIM-N modules once at t=0 and discards '
            'the result; mmvp skips that work, so its MACs are '
            'lower by 2 x (L-1) MIM-N convs for one step (2.52G for the '
            'Human3.6M sequence: 67.65G here vs 70.17G).'),
    'E3DLSTM': ('With temporal_kernel=2, OpenSTL convolves without temporal '
                'padding (output depth 1) and upsamples; mmvp uses '
                'TensorFlow "same" padding as the E3D release (output depth '
                'tau), so every gate conv costs tau times more (195.02G vs '
                '97.77G at Human3.6M settings).'),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Count parameters and multiply-accumulates of one '
        'predicted sequence (batch 1)')
    parser.add_argument('config', help='config file path')
    cx.add_sequence_args(parser)
    parser.add_argument(
        '--device',
        default='meta',
        help='device to run on: "meta" (shapes only, default) or e.g. '
        '"cpu" for a real forward pass on random frames')
    parser.add_argument(
        '--per-layer',
        action='store_true',
        help='also print the count of every executed layer')
    parser.add_argument('--json', help='write the result to this JSON file')
    add_cfg_options_arg(parser)
    return parser.parse_args(argv)


def resolve_settings(cfg: Config, args) -> dict:
    return cx.sequence_from_args(cfg, args)


def run(args) -> dict:
    register_all_modules()
    torch.set_num_threads(max(1, min(torch.get_num_threads(), 4)))
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    settings = resolve_settings(cfg, args)
    # the counter hooks every module: run them eagerly on any device
    cfg.model.pop('compile_regions', None)
    model = cx.build_model_for_counting(cfg.model, settings, args.device)
    shape = settings['input_shape']
    if args.device == 'meta':
        inputs = torch.empty(shape, device='meta')
    else:
        inputs = torch.rand(shape, device=args.device)
    result = cx.count_complexity(model, inputs)

    # backbone first, then the neck, then anything else (by name)
    groups = dict(
        sorted(
            result.by_group(depth=1).items(),
            key=lambda kv: ({
                'backbone': 0,
                'neck': 1
            }.get(kv[0], 2), kv[0])))
    paper = cx.match_paper_row(result.params, result.macs_thop,
                               result.macs_true)
    is_h36m = all(settings[k] == v for k, v in cx.H36M_SETTINGS.items())
    closest = None if paper else cx.closest_paper_row(result.params,
                                                      result.macs_thop)
    backbone = cfg.model['backbone']
    notes = []
    if backbone['type'] == 'MIM' or (backbone['type'] == 'E3DLSTM'
                                     and backbone.get('temporal_kernel') == 2):
        notes.append(NOTES[backbone['type']])
    out = dict(
        config=args.config,
        model=cx.describe_model(cfg.model),
        sequence={
            k: v
            for k, v in settings.items() if k != 'input_shape'
        },
        input_shape=list(shape),
        steps=result.steps,
        params=result.params,
        params_all=result.params_all,
        macs_thop=result.macs_thop,
        macs_true=result.macs_true,
        groups=groups,
        paper_row=paper if is_h36m else None,
        closest_paper_row=closest if is_h36m else None,
        notes=notes,
        layers=[vars(layer) for layer in result.layers])
    return out


def format_report(out: dict, per_layer: bool = False) -> str:
    seq = out['sequence']
    lines = [
        f'Config:   {out["config"]}',
        f'Model:    {out["model"]}',
        f'Sequence: {seq["in_frames"]} -> {seq["out_frames"]} frames of '
        f'{seq["height"]}x{seq["width"]}x{seq["img_channels"]}, patch '
        f'{seq["patch_size"]}: input {out["input_shape"]}, '
        f'{out["steps"]} recurrent steps, batch 1',
        '',
    ]
    header = ('part', 'params', 'MACs (thop)', 'MACs (true)')
    rows = [(name, f'{g["params"]:,}', cx.format_count(g['macs_thop'], 'G'),
             cx.format_count(g['macs_true'], 'G'))
            for name, g in out['groups'].items()]
    rows.append(('total (executed convs)', f'{out["params"]:,}',
                 cx.format_count(out['macs_thop'],
                                 'G'), cx.format_count(out['macs_true'], 'G')))
    rows.append(('all parameters', f'{out["params_all"]:,}', '', ''))
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(4)]

    def fmt(row):
        return '  '.join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(row, widths)))

    rule = '-' * len(fmt(header))
    lines += [fmt(header), rule]
    lines += [fmt(r) for r in rows[:-2]]
    lines += [rule, fmt(rows[-2]), fmt(rows[-1]), '']
    lines.append(f'params {cx.format_count(out["params"], "M")}, MACs '
                 f'{cx.format_count(out["macs_thop"], "G")} (thop) / '
                 f'{cx.format_count(out["macs_true"], "G")} (true)')
    paper = out['paper_row']
    if paper:
        lines.append(
            f'Reproduces the paper\'s Table 2 row "{paper["name"]}": '
            f'{paper["paper_params"] / 1e6:.3g}M / '
            f'{paper["paper_macs"] / 1e9:.3g}G ({paper["convention"]} '
            'convention).')
    elif out['closest_paper_row']:
        c = out['closest_paper_row']
        lines.append(
            'Reproduces no row of the paper\'s Table 2; closest: '
            f'"{c["name"]}" {c["paper_params"] / 1e6:.3g}M / '
            f'{c["paper_macs"] / 1e9:.3g}G (params {c["rel_params"]:+.1%}, '
            f'MACs {c["rel_macs"]:+.1%}).')
    else:
        lines.append('Paper Table 2 figures are for the Human3.6M sequence '
                     '(--h36m); not compared.')
    for note in out['notes']:
        lines.append(f'Note: {note}')
    if per_layer:
        lines += ['', 'Per layer (calls, params, MACs thop / true):']
        for layer in out['layers']:
            lines.append(f'  {layer["name"]} [{layer["type"]}] x'
                         f'{layer["calls"]}  {layer["params"]:,}  '
                         f'{cx.format_count(layer["macs_thop"])} / '
                         f'{cx.format_count(layer["macs_true"])}')
    return '\n'.join(lines)


def write_json(out: dict, path: str):
    """Write ``out`` to ``path`` atomically (temporary file + rename)."""
    atomic_write_text(path, json.dumps(out, indent=2))


def main(argv=None):
    args = parse_args(argv)
    out = run(args)
    print(format_report(out, args.per_layer))
    if args.json:
        write_json(out, args.json)
        print(f'Wrote {args.json}')
    return out


if __name__ == '__main__':
    sys.exit(0 if main() else 1)
