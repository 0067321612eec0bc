# Copyright (c) mmvp contributors. All rights reserved.
"""The evaluation and visualization layers do not load the datasets or the
models (nor the video decoders they use)."""
import json
import subprocess
import sys

import pytest


def _loaded_after(statement):
    code = (f'import sys\n{statement}\n'
            'import json\n'
            'print(json.dumps(sorted(sys.modules)))\n')
    out = subprocess.run([sys.executable, '-c', code],
                         check=True,
                         capture_output=True,
                         text=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize('statement', [
    'import mmvp.evaluation',
    'from mmvp.evaluation import CSIMetric, MSEMetric',
    'import mmvp.visualization',
])
def test_layers_do_not_import_datasets_models_or_decord(statement):
    loaded = _loaded_after(statement)
    for unwanted in ('decord', 'mmvp.datasets', 'mmvp.models'):
        assert unwanted not in loaded, f'{statement} loads {unwanted}'
    assert not any(
        m.startswith(('mmvp.datasets.', 'mmvp.models.')) for m in loaded)


def test_dbz_encoding_old_import_path_still_works():
    from mmvp.datasets import dbz_encoding as old
    from mmvp.utils import dbz_encoding as new
    for name in ('DBZ_ENCODINGS', 'check_encoding', 'pixel_to_dbz',
                 'dbz_to_pixel'):
        assert getattr(old, name) is getattr(new, name)
