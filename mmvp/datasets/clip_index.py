# Copyright (c) mmvp contributors. All rights reserved.
"""Clip indexes built from metadata only (frame counts and file names).

* :func:`clip_starts`: evenly spaced clips inside one sequence (Human3.6M
  from video, see
  ``docs/en/advanced_guides/dataset_protocols.md#protocol-mim``, and the
  generic folders).
* :func:`mim_flat_clip_index`: the index of the official MIM / MotionRNN
  Human3.6M provider over one flat, sorted JPEG folder
  (``dataset_protocols.md#the-official-loader``), reproduced exactly, quirks
  included.
* :func:`read_clip_list`: ``path [start [split]]`` list files.
"""
import os.path as osp
import re
from typing import Iterator, List, NamedTuple, Optional, Sequence, Tuple

__all__ = [
    'clip_starts', 'clip_span', 'mim_flat_clip_index', 'parse_h36m_image',
    'ClipListEntry', 'read_clip_list', 'list_file_lines'
]


def clip_span(clip_len: int, frame_interval: int) -> int:
    """Frames covered by a clip: first to last, inclusive."""
    return frame_interval * (clip_len - 1) + 1


def clip_starts(num_frames: int,
                clip_len: int,
                frame_interval: int = 1,
                clip_stride: int = 1) -> range:
    """Starts ``s = 0, S, 2S, ...`` with ``s + interval * (len - 1) <=
    num_frames - 1``.

    Args:
        num_frames (int): Frames in the sequence.
        clip_len (int): Frames per clip (``in_frames + out_frames``).
        frame_interval (int): Step between the frames of a clip.
        clip_stride (int): Step between clip starts ``S``.

    Returns:
        range: Clip start indices (empty if the sequence is too short).
    """
    for name, v in (('clip_len', clip_len), ('frame_interval', frame_interval),
                    ('clip_stride', clip_stride)):
        if int(v) != v or v < 1:
            raise ValueError(f'{name} must be a positive int, got {v!r}')
    last = num_frames - 1 - frame_interval * (clip_len - 1)
    return range(0, max(last + 1, 0), clip_stride)


# 'S11_Discussion_1.54138969_000471.jpg'
_H36M_IMAGE = re.compile(r'^(?P<prefix>[^.]+)\.(?P<camera>[^._]+)_'
                         r'(?P<frame>\d+)\.(?P<ext>[A-Za-z]+)$')


def parse_h36m_image(name: str) -> Optional[Tuple[str, str, int]]:
    """``(prefix, camera, frame)`` of a Pavlakos-style image name
    ``<Subj>_<Action>[_<n>].<camera>_<frame6>.jpg``, or None."""
    m = _H36M_IMAGE.match(name)
    if m is None:
        return None
    return m.group('prefix'), m.group('camera'), int(m.group('frame'))


def mim_flat_clip_index(names: Sequence[str],
                        seq_len: int = 8,
                        interval: int = 2,
                        stride: int = 10,
                        raw_step: int = 5) -> List[int]:
    """Clip start positions in ``names`` as the official provider makes them.

    See ``docs/en/advanced_guides/dataset_protocols.md#the-official-loader``
    (``thuml/MotionRNN`` ``core/data_provider/human.py``, identical in MIM),
    for the already filtered and sorted file names:
    ``index = 0``; while ``index + interval * seq_len - 1 < N``: compare
    ``names[index]`` with ``names[index + interval * (seq_len - 1)]``; if
    the parts before the first ``.`` differ or the camera ids differ,
    ``index += 1``; otherwise accept ``index`` if the frame numbers differ
    by exactly ``raw_step * (seq_len - 1) * interval`` and move on by
    ``stride`` (10 train, 5 test), accepted or not. A clip is then
    ``names[index : index + interval * seq_len : interval]``.

    Quirk kept on purpose: the loop condition is global, so the very last
    eligible start of the last video in the list is never taken.
    """
    n = len(names)
    last_off = interval * (seq_len - 1)
    want = raw_step * (seq_len - 1) * interval
    indices = []
    index = 0
    while index + interval * seq_len - 1 < n:
        start = names[index].split('.')
        end = names[index + last_off].split('.')
        if start[0] != end[0]:
            index += 1
            continue
        start_cam, start_frame = start[1].split('_')
        end_cam, end_frame = end[1].split('_')
        if start_cam != end_cam:
            index += 1
            continue
        if int(end_frame) - int(start_frame) == want:
            indices.append(index)
        index += stride
    return indices


class ClipListEntry(NamedTuple):
    """One line of a clip list file."""
    path: str
    start: Optional[int]
    split: Optional[str]
    lineno: int


def read_clip_list(list_file: str) -> List[ClipListEntry]:
    """Read a clip list: one ``path [start [split]]`` per line.

    ``path`` is relative to the dataset root (a video, a frame folder or an
    array file), ``start`` the 0-based index of the first frame of the clip
    (omitted: every clip of the file), ``split`` a free-form split name.
    Blank lines and lines starting with ``#`` are ignored. Paths with
    spaces are not supported (fields are separated by whitespace).
    """
    entries = []
    for lineno, line in list_file_lines(
            list_file, 'clip list file', comments=True):
        fields = line.split()
        if len(fields) > 3:
            raise ValueError(
                f'{list_file}:{lineno}: expected "path [start [split]]",'
                f' got {len(fields)} fields: {line!r}')
        start = None
        if len(fields) >= 2 and fields[1] not in ('-', '*'):
            try:
                start = int(fields[1])
            except ValueError:
                raise ValueError(
                    f'{list_file}:{lineno}: start frame must be an '
                    f'integer, got {fields[1]!r}') from None
            if start < 0:
                raise ValueError(f'{list_file}:{lineno}: negative start '
                                 f'frame {start}')
        split = fields[2] if len(fields) == 3 else None
        entries.append(ClipListEntry(fields[0], start, split, lineno))
    return entries


def list_file_lines(path: str,
                    what: str,
                    comments: bool = False) -> Iterator[Tuple[int, str]]:
    """``(line number, stripped line)`` of the non-blank lines of a text
    list file (line numbers from 1, for error messages).

    Args:
        path (str): The file.
        what (str): What the file is, for the error when it is missing.
        comments (bool): Also leave out the lines starting with ``#``.

    Raises:
        FileNotFoundError: at once (not on the first iteration) when
            ``path`` is not a file.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} not found: {path}')
    return _stripped_lines(path, comments)


def _stripped_lines(path: str, comments: bool) -> Iterator[Tuple[int, str]]:
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if line and not (comments and line.startswith('#')):
                yield lineno, line
