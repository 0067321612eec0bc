# Copyright (c) mmvp contributors. All rights reserved.
"""Sources of 28x28 digit images for the synthetic digit-video datasets.

Three sources share one small interface (``len(src)``, ``src.image(i)`` ->
``np.uint8 [28, 28]`` with 0 = background and 255 = ink, ``src.label(i)``):

- :class:`MNISTDigitSource` reads the MNIST IDX files
  (``docs/en/advanced_guides/dataset_protocols.md#mnist-digit-files``),
  lazily, so
  a dataset object stays small when it is sent to dataloader workers;
- :class:`GlyphDigitSource` draws digits with OpenCV's Hershey fonts and
  needs no download (deterministic per ``(split, index)``);
- :class:`SegmentDigitSource` draws seven-segment digits (as on a
  calculator display), a glyph family unlike both, for testing a model on
  digits of a kind it was never trained on. No download either.

Use :func:`build_digit_source` to get one by name.
"""
import gzip
import os.path as osp
from collections import OrderedDict
from typing import Optional, Tuple

import cv2
import numpy as np

__all__ = [
    'read_idx', 'MNISTDigitSource', 'GlyphDigitSource', 'SegmentDigitSource',
    'build_digit_source', 'DIGIT_SOURCES', 'MNIST_FILES', 'SPLIT_IDS'
]

DIGIT_SIZE = 28

# split name -> id used in the per-sample seeds
# (dataset_protocols.md#protocol-vmnist-v1)
SPLIT_IDS = {'train': 0, 'test': 1}

# split -> (images file, labels file), dataset_protocols.md#mnist-digit-files
MNIST_FILES = {
    'train': ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
    'test': ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'),
}

IDX_IMAGES_MAGIC = 0x00000803  # 2051: uint8, 3 dims
IDX_LABELS_MAGIC = 0x00000801  # 2049: uint8, 1 dim

DOWNLOAD_HINT = ('Run `python tools/dataset_converters/download_mnist.py '
                 '--out-dir {root}` to download MNIST, or use '
                 "digit_source='glyphs', which needs no download.")


def check_split(split: str) -> int:
    """Return the split id of ``split`` or raise a clear error."""
    if split not in SPLIT_IDS:
        raise ValueError(f"split must be one of {sorted(SPLIT_IDS)}, got "
                         f'{split!r}')
    return SPLIT_IDS[split]


def _open_maybe_gzip(path: str):
    """Open ``path`` for binary reading; gzip is detected by its magic."""
    with open(path, 'rb') as f:
        head = f.read(2)
    if head == b'\x1f\x8b':
        return gzip.open(path, 'rb')
    return open(path, 'rb')


def _read_idx_header(fileobj, path: str,
                     expected_magic: Optional[int]) -> Tuple[int, ...]:
    """Read and check an IDX header; return its dimensions."""
    head = fileobj.read(4)
    if len(head) < 4:
        raise ValueError(f'{path}: file too short for an IDX header')
    magic = int.from_bytes(head, 'big')
    if expected_magic is not None and magic != expected_magic:
        raise ValueError(
            f'{path}: bad IDX magic number 0x{magic:08x}, expected '
            f'0x{expected_magic:08x} ({expected_magic}). The file is corrupt '
            'or is not the expected MNIST file; delete it and download it '
            'again (the download tool checks md5).')
    if head[0] != 0 or head[1] != 0 or head[2] != 0x08:
        raise ValueError(
            f'{path}: bad IDX magic number 0x{magic:08x}; expected two zero '
            'bytes, type code 0x08 (uint8) and the number of dimensions')
    ndim = head[3]
    raw = fileobj.read(4 * ndim)
    if len(raw) < 4 * ndim:
        raise ValueError(f'{path}: truncated IDX header')
    return tuple(
        int.from_bytes(raw[4 * i:4 * i + 4], 'big') for i in range(ndim))


def read_idx(path: str,
             expected_magic: Optional[int] = None,
             expected_dims: Optional[Tuple[Optional[int], ...]] = None,
             header_only: bool = False):
    """Read an IDX file (gzip-compressed or raw), see
    ``dataset_protocols.md#mnist-digit-files``.

    Args:
        path (str): The file.
        expected_magic (int, optional): E.g. 2051 for images, 2049 labels.
        expected_dims (tuple, optional): Expected dims; ``None`` entries are
            not checked (e.g. ``(None, 28, 28)``).
        header_only (bool): Only read and check the header.

    Returns:
        np.ndarray | tuple: The uint8 array, or its dims if ``header_only``.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'IDX file not found: {path}')
    with _open_maybe_gzip(path) as f:
        dims = _read_idx_header(f, path, expected_magic)
        if expected_dims is not None:
            ok = len(dims) == len(expected_dims) and all(
                e is None or e == d for d, e in zip(dims, expected_dims))
            if not ok:
                want = ', '.join('N' if e is None else str(e)
                                 for e in expected_dims)
                raise ValueError(f'{path}: IDX dims {dims}, expected '
                                 f'({want})')
        if header_only:
            return dims
        payload = f.read()
    count = int(np.prod(dims)) if dims else 0
    if len(payload) < count:
        raise ValueError(f'{path}: truncated IDX payload, {len(payload)} '
                         f'bytes for dims {dims} ({count} expected)')
    return np.frombuffer(payload, np.uint8, count=count).reshape(dims)


def _find_file(root: str, name: str) -> Optional[str]:
    """Find ``name`` (gz or raw, either MNIST spelling) under ``root``."""
    alt = name.replace('-idx', '.idx')  # 'train-images.idx3-ubyte'
    for cand in (name + '.gz', name, alt + '.gz', alt):
        path = osp.join(root, cand)
        if osp.isfile(path):
            return path
    return None


class MNISTDigitSource:
    """MNIST digits read from the IDX files under ``data_root``.

    Split ``train`` reads ``train-images-idx3-ubyte(.gz)`` (60,000 digits),
    split ``test`` reads ``t10k-images-idx3-ubyte(.gz)`` (10,000). Only the
    header is read at construction (so errors come early); the pixels are
    loaded on first use and are not pickled (each worker loads its own).

    Args:
        data_root (str): Folder with the IDX files.
        split (str): ``'train'`` or ``'test'``.
    """

    def __init__(self, data_root: Optional[str], split: str = 'train'):
        check_split(split)
        self.split = split
        self.data_root = data_root
        img_name, lbl_name = MNIST_FILES[split]
        if not data_root or not osp.isdir(data_root):
            raise FileNotFoundError(
                f'MNIST data_root not found: {data_root!r}. ' +
                DOWNLOAD_HINT.format(root=data_root or 'data/mnist'))
        self.images_path = _find_file(data_root, img_name)
        if self.images_path is None:
            raise FileNotFoundError(
                'MNIST images file not found: '
                f"{osp.join(data_root, img_name + '.gz')} (or without .gz). " +
                DOWNLOAD_HINT.format(root=data_root))
        self.labels_path = _find_file(data_root, lbl_name)
        self._labels_name = osp.join(data_root, lbl_name + '.gz')
        dims = read_idx(
            self.images_path,
            IDX_IMAGES_MAGIC, (None, DIGIT_SIZE, DIGIT_SIZE),
            header_only=True)
        self._len = dims[0]
        self._images = None
        self._labels = None

    def __len__(self) -> int:
        return self._len

    def _load_images(self) -> np.ndarray:
        if self._images is None:
            self._images = read_idx(self.images_path, IDX_IMAGES_MAGIC,
                                    (self._len, DIGIT_SIZE, DIGIT_SIZE))
        return self._images

    def _load_labels(self) -> np.ndarray:
        if self._labels is None:
            if self.labels_path is None:
                raise FileNotFoundError(
                    f'MNIST labels file not found: {self._labels_name} (or '
                    'without .gz). ' +
                    DOWNLOAD_HINT.format(root=self.data_root))
            self._labels = read_idx(self.labels_path, IDX_LABELS_MAGIC,
                                    (self._len, ))
        return self._labels

    def image(self, index: int) -> np.ndarray:
        """Digit ``index`` as ``np.uint8 [28, 28]`` (read-only view)."""
        return self._load_images()[index]

    def label(self, index: int) -> int:
        """Class (0-9) of digit ``index``."""
        return int(self._load_labels()[index])

    def __getstate__(self):
        state = self.__dict__.copy()
        state['_images'] = None  # never ship pixels to workers
        state['_labels'] = None
        return state

    def __repr__(self):
        return (f'{self.__class__.__name__}(data_root={self.data_root!r}, '
                f'split={self.split!r}, len={self._len})')


# Hershey faces used by GlyphDigitSource (PLAIN is too thin to be useful)
_HERSHEY_FACES = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX,
                  cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_TRIPLEX,
                  cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
                  cv2.FONT_HERSHEY_SCRIPT_COMPLEX)
_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


class _GeneratedDigitSource:
    """Common part of the digit sources drawn on demand from a seed.

    Digit ``i`` of a split comes from ``np.random.default_rng([seed,
    split_id, i, *_SEED_TAIL])``; its first draw is the label, the rest are
    used by :meth:`_render` (subclasses). Rendered images are kept in a
    small LRU cache that is not pickled (dataloader workers start empty).
    """

    _DEFAULT_SIZES = {'train': 60000, 'test': 10000}
    _SEED_TAIL: Tuple[int, ...] = ()
    _WHAT = 'digit'  # what an index names, for the error message

    def __init__(self,
                 split: str = 'train',
                 size: Optional[int] = None,
                 seed: int = 0,
                 cache_size: int = 2048):
        self.split = split
        self.split_id = check_split(split)
        self.size = int(size or self._DEFAULT_SIZES[split])
        self.seed = int(seed)
        self.cache_size = int(cache_size)
        self._cache = OrderedDict()

    def __len__(self) -> int:
        return self.size

    def _rng(self, index: int) -> np.random.Generator:
        if not 0 <= index < self.size:
            raise IndexError(f'{self._WHAT} index {index} out of range '
                             f'[0, {self.size})')
        return np.random.default_rng(
            [self.seed, self.split_id,
             int(index), *self._SEED_TAIL])

    def label(self, index: int) -> int:
        """Class (0-9) of digit ``index`` (the first draw of its RNG)."""
        return int(self._rng(index).integers(10))

    def image(self, index: int) -> np.ndarray:
        """Digit ``index`` as ``np.uint8 [28, 28]``."""
        index = int(index)
        img = self._cache.get(index)
        if img is not None:
            self._cache.move_to_end(index)
            return img
        img = self._render(index)
        img.flags.writeable = False
        self._cache[index] = img
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return img

    def _render(self, index: int) -> np.ndarray:
        """Draw digit ``index`` as a ``uint8`` image; each digit source
        defines it."""
        raise NotImplementedError(
            f'{type(self).__name__} must define _render(index)')

    def __getstate__(self):
        state = self.__dict__.copy()
        state['_cache'] = OrderedDict()
        return state

    def __repr__(self):
        return (f'{self.__class__.__name__}(split={self.split!r}, '
                f'size={self.size}, seed={self.seed})')


class GlyphDigitSource(_GeneratedDigitSource):
    """Digits drawn with OpenCV Hershey fonts; needs no download.

    Each digit ``i`` of a split is generated on demand from
    ``np.random.default_rng([seed, split_id, i])``: label, font face, italic
    flag, pen width, slant (shear), rotation, aspect, a mild smooth
    elastic distortion and the final box size. The glyph is then normalised
    the MNIST way: its bounding box is fitted into a ``box x box`` square
    (box in [17, 20] px, aspect kept) and its centre of mass is put at the
    centre of the 28x28 image. White on black, uint8, antialiased.

    The pixels are reproducible with a given OpenCV build; another OpenCV
    version may draw the fonts slightly differently. Use MNIST for numbers
    that are meant to be compared across machines.

    Args:
        split (str): ``'train'`` or ``'test'`` (different draws).
        size (int, optional): Pool size; defaults to 60,000 (train) and
            10,000 (test), the MNIST sizes.
        seed (int): Seed of the glyph draws. Defaults to 0.
        cache_size (int): Images kept in a small LRU cache. Defaults to 2048.
    """

    _CANVAS = 112  # drawing resolution (4x the digit size)
    _WHAT = 'glyph'

    def _render(self, index: int) -> np.ndarray:
        rng = self._rng(index)
        label = int(rng.integers(10))
        face = _HERSHEY_FACES[int(rng.integers(len(_HERSHEY_FACES)))]
        if rng.random() < 0.3:
            face |= cv2.FONT_ITALIC
        pen = rng.uniform(2.2, 3.4)  # stroke width in the 28x28 image
        shear = rng.uniform(-0.35, 0.35)
        angle = rng.uniform(-12.0, 12.0)
        aspect = rng.uniform(0.75, 1.15)
        box = rng.uniform(17.0, 20.0)
        warp_amp = rng.uniform(0.0, 5.0)
        warp_field = rng.standard_normal((2, 4, 4)).astype(np.float32)

        n = self._CANVAS
        canvas = np.zeros((n, n), np.uint8)
        text = str(label)
        (tw, th), _ = cv2.getTextSize(text, face, 1.0, 1)
        font_scale = 60.0 / max(th, 1)
        (tw, th), _ = cv2.getTextSize(text, face, font_scale, 1)
        org = ((n - tw) // 2, (n + th) // 2)
        cv2.putText(canvas, text, org, face, font_scale, 255, 1, cv2.LINE_AA)

        # slant, rotation and aspect about the canvas centre
        c = n / 2.0
        rot = cv2.getRotationMatrix2D((c, c), angle, 1.0)
        affine = np.array([[aspect, -shear, 0.0], [0.0, 1.0, 0.0]])
        full = rot @ np.vstack([affine, [0.0, 0.0, 1.0]])
        full[:, 2] += np.array([c, c]) - full[:, :2] @ np.array([c, c])
        canvas = cv2.warpAffine(
            canvas, full, (n, n), flags=cv2.INTER_LINEAR, borderValue=0)

        # mild smooth elastic distortion ("handwritten-ish")
        if warp_amp > 0.5:
            disp = np.stack([
                cv2.resize(f, (n, n), interpolation=cv2.INTER_CUBIC)
                for f in warp_field
            ]) * warp_amp
            grid = np.arange(n, dtype=np.float32)
            map_x = grid[None, :] + disp[0]
            map_y = grid[:, None] + disp[1]
            canvas = cv2.remap(
                canvas, map_x, map_y, cv2.INTER_LINEAR, borderValue=0)

        return self._normalise(self._set_pen(canvas, pen, box), box)

    @staticmethod
    def _set_pen(canvas: np.ndarray, pen: float, box: float) -> np.ndarray:
        """Dilate or erode the glyph so that its strokes are about ``pen`` px
        wide once it is fitted into ``box`` px.

        The stroke width is estimated as 2 * area / perimeter, so the result
        does not depend on how wide the font engine draws its lines (OpenCV
        versions differ there).
        """
        ink = canvas > 127
        ys, xs = np.nonzero(ink)
        if len(xs) == 0:
            return canvas
        side = max(ys.max() - ys.min(), xs.max() - xs.min()) + 1
        inner = cv2.erode(ink.view(np.uint8), _CROSS).astype(bool)
        perimeter = max(int((ink & ~inner).sum()), 1)
        width = 2.0 * ink.sum() / perimeter
        delta = int(round(pen * side / box - width))
        if delta > 0:
            k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                          (delta + 1, delta + 1))
            canvas = cv2.dilate(canvas, k)
        elif delta < 0:
            k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                          (1 - delta, 1 - delta))
            thinner = cv2.erode(canvas, k)
            if (thinner > 127).sum() > 0.3 * ink.sum():  # keep the glyph
                canvas = thinner
        return canvas

    @staticmethod
    def _normalise(canvas: np.ndarray, box: float) -> np.ndarray:
        """Fit the ink's bounding box into ``box`` px, centre of mass at the
        image centre (the MNIST normalisation)."""
        ys, xs = np.nonzero(canvas > 24)
        if len(xs) == 0:  # cannot happen with the ranges above
            return np.zeros((DIGIT_SIZE, DIGIT_SIZE), np.uint8)
        crop = canvas[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        h, w = crop.shape
        scale = box / max(h, w)
        nw = max(1, int(round(w * scale)))
        nh = max(1, int(round(h * scale)))
        small = cv2.resize(crop, (nw, nh), interpolation=cv2.INTER_AREA)
        small = small.astype(np.float32)
        mass = small.sum()
        cy = (small.sum(1) * np.arange(nh)).sum() / mass
        cx = (small.sum(0) * np.arange(nw)).sum() / mass
        half = (DIGIT_SIZE - 1) / 2.0
        m = np.array([[1.0, 0.0, half - cx], [0.0, 1.0, half - cy]])
        out = cv2.warpAffine(
            small,
            m, (DIGIT_SIZE, DIGIT_SIZE),
            flags=cv2.INTER_LINEAR,
            borderValue=0)
        peak = out.max()
        if peak > 0:
            # full-ink strokes and a thin soft edge, as in MNIST
            out = (out * (1.0 / peak) - 0.12) * (255.0 / 0.76)
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)


# lit segments per digit; a top, b top right, c bottom right, d bottom,
# e bottom left, f top left, g middle
_SEVEN_SEGMENTS = ('abcdef', 'bc', 'abdeg', 'abcdg', 'bcfg', 'acdfg', 'acdefg',
                   'abc', 'abcdefg', 'abcdfg')


class SegmentDigitSource(_GeneratedDigitSource):
    """Seven-segment digits, as on a calculator display; needs no download.

    A glyph family unlike MNIST's handwriting and the fonts of
    :class:`GlyphDigitSource`: straight strokes, square corners, a flat
    "1". Use it to test a model trained on the other sources on digits of a
    kind it never saw. Each digit ``i`` of a split is drawn from
    ``np.random.default_rng([seed, split_id, i, 7])``: label, width/height
    ratio, slant, pen width, gaps between segments and the box size; it is
    then normalised like :class:`GlyphDigitSource` (bounding box fitted into
    ``box`` px, centre of mass at the image centre). White on black, uint8,
    antialiased.

    Args:
        split (str): ``'train'`` or ``'test'`` (different draws).
        size (int, optional): Pool size; defaults to 60,000 (train) and
            10,000 (test).
        seed (int): Seed of the draws. Defaults to 0.
        cache_size (int): Images kept in a small LRU cache. Defaults to 2048.
    """

    _CANVAS = 112  # drawing resolution (4x the digit size)
    _HEIGHT = 80  # glyph height on the canvas
    # last seed element, keeps the draws apart from the glyphs'
    _SEED_TAIL = (7, )
    _WHAT = 'segment digit'

    def _render(self, index: int) -> np.ndarray:
        rng = self._rng(index)
        label = int(rng.integers(10))
        ratio = rng.uniform(0.45, 0.7)  # width / height
        slant = rng.uniform(-0.25, 0.25)  # x shift per unit of height
        pen = rng.uniform(2.2, 3.4)  # stroke width in the 28x28 image
        gap = rng.uniform(0.0, 0.1)  # free end of each segment / its length
        box = rng.uniform(17.0, 20.0)

        n, h = self._CANVAS, self._HEIGHT
        w = ratio * h
        x0, y0 = (n - w) / 2.0, (n - h) / 2.0
        # corner points (x, y) of the display, y down: top, middle, bottom
        pts = {
            'tl': (0.0, 0.0),
            'tr': (w, 0.0),
            'ml': (0.0, h / 2),
            'mr': (w, h / 2),
            'bl': (0.0, h),
            'br': (w, h)
        }
        ends = dict(
            a=('tl', 'tr'),
            b=('tr', 'mr'),
            c=('mr', 'br'),
            d=('bl', 'br'),
            e=('ml', 'bl'),
            f=('tl', 'ml'),
            g=('ml', 'mr'))
        thickness = max(1, int(round(pen * h / box)))
        canvas = np.zeros((n, n), np.uint8)
        for seg in _SEVEN_SEGMENTS[label]:
            p, q = (np.array(pts[k]) for k in ends[seg])
            p, q = p + gap * (q - p), q - gap * (q - p)
            line = []
            for x, y in (p, q):
                x += slant * (h / 2 - y)  # shear about the middle line
                line.append((int(round(x0 + x)), int(round(y0 + y))))
            cv2.line(canvas, line[0], line[1], 255, thickness, cv2.LINE_AA)
        return GlyphDigitSource._normalise(canvas, box)


DIGIT_SOURCES = ('mnist', 'glyphs', 'segments')


def build_digit_source(name,
                       data_root: Optional[str] = None,
                       split: str = 'train',
                       **kwargs):
    """Build a digit source by name.

    Args:
        name (str | object): ``'mnist'``, ``'glyphs'`` or ``'segments'``;
            an object that
            already has ``__len__``, ``image`` and ``label`` is returned
            unchanged.
        data_root (str, optional): Folder of the MNIST IDX files (``mnist``).
        split (str): ``'train'`` or ``'test'``.
        **kwargs: Extra arguments of :class:`GlyphDigitSource` or
            :class:`SegmentDigitSource`.

    Returns:
        MNISTDigitSource | GlyphDigitSource | SegmentDigitSource: The
        source.
    """
    if not isinstance(name, str):
        if all(hasattr(name, a) for a in ('__len__', 'image', 'label')):
            return name
        raise TypeError('digit_source must be a name in '
                        f'{DIGIT_SOURCES} or a digit source object, got '
                        f'{type(name)}')
    if name == 'mnist':
        if kwargs:
            raise TypeError(f'unexpected arguments for the mnist source: '
                            f'{sorted(kwargs)}')
        return MNISTDigitSource(data_root, split)
    if name == 'glyphs':
        return GlyphDigitSource(split, **kwargs)
    if name == 'segments':
        return SegmentDigitSource(split, **kwargs)
    raise ValueError(f'Unknown digit_source {name!r}; expected one of '
                     f'{DIGIT_SOURCES}')
