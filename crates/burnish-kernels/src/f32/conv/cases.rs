//! The convolution geometries every path is tested on: strides, dilations, asymmetric padding,
//! groups, depthwise, 1-D, partial tiles, long reductions.

use super::Conv2dGeometry;
use super::tests::geometry;

/// Geometries every path is checked on (the dispatcher's choice, and the blocked driver alone).
pub(super) const CASES: [Conv2dGeometry; 50] = [
    geometry(1, 3, [20, 22], 16, [3, 3], [2, 2], [1, 1], [1, 1, 1, 1], 1),
    geometry(2, 5, [18, 17], 7, [3, 3], [1, 1], [1, 1], [1, 1, 1, 1], 1),
    geometry(1, 4, [19, 33], 13, [3, 5], [1, 1], [2, 3], [2, 0, 1, 3], 1),
    geometry(2, 6, [9, 7], 10, [3, 3], [2, 1], [1, 2], [0, 2, 1, 0], 2),
    geometry(1, 8, [8, 8], 12, [1, 1], [2, 2], [1, 1], [0, 0, 0, 0], 1),
    geometry(1, 8, [5, 40], 9, [1, 1], [1, 1], [1, 1], [0, 0, 0, 0], 1),
    geometry(3, 6, [11, 21], 6, [3, 3], [1, 1], [1, 1], [1, 1, 1, 1], 6),
    geometry(1, 6, [13, 11], 6, [5, 5], [2, 2], [1, 1], [2, 2, 2, 2], 6),
    geometry(1, 4, [17, 17], 8, [3, 3], [2, 2], [2, 2], [3, 3, 3, 3], 4),
    geometry(1, 5, [1, 30], 7, [1, 3], [1, 1], [1, 1], [0, 1, 0, 1], 1),
    geometry(2, 3, [1, 9], 4, [1, 4], [1, 3], [1, 1], [0, 0, 0, 2], 1),
    // A stem: 3 channels, stride 2, 32-wide output rows read in place.
    geometry(1, 3, [64, 64], 16, [3, 3], [2, 2], [1, 1], [1, 1, 1, 1], 1),
    // 8-wide outputs: blocks of two output rows (two runs per step), stride 1 and 2.
    geometry(2, 9, [8, 8], 17, [3, 3], [1, 1], [1, 1], [1, 1, 1, 1], 1),
    geometry(1, 10, [16, 15], 14, [3, 3], [2, 2], [1, 1], [1, 1, 1, 1], 1),
    // 24-wide rows: blocks straddle output rows; 1x1 stride 2 reads one phase plane.
    geometry(1, 4, [5, 24], 8, [3, 3], [1, 1], [1, 1], [1, 1, 1, 1], 1),
    geometry(2, 16, [32, 31], 32, [1, 1], [2, 2], [1, 1], [0, 0, 0, 0], 1),
    // Unpadded stride 1 with whole-run rows: the input is read in place (1x1 and 3x3).
    geometry(1, 7, [4, 16], 11, [1, 1], [1, 1], [1, 1], [0, 0, 0, 0], 1),
    geometry(2, 5, [10, 10], 3, [3, 3], [1, 1], [1, 1], [0, 0, 0, 0], 1),
    geometry(1, 6, [9, 18], 5, [2, 3], [1, 1], [1, 3], [0, 0, 0, 0], 1),
    // Odd narrow rows (packed), with partial panels of 1..5 rows.
    geometry(1, 5, [7, 7], 19, [3, 3], [1, 1], [1, 1], [1, 1, 1, 1], 1),
    geometry(1, 5, [14, 14], 8, [3, 3], [2, 2], [1, 1], [1, 1, 1, 1], 1),
    geometry(1, 2, [6, 20], 2, [3, 3], [1, 1], [1, 1], [1, 1, 1, 1], 1),
    // Unpadded stride-1 rows of 16+ values, not a multiple of 8: read in place, the last
    // blocks gathered where a fixed-width read would pass the end of the input.
    geometry(2, 5, [7, 23], 6, [1, 1], [1, 1], [1, 1], [0, 0, 0, 0], 1),
    geometry(1, 4, [9, 21], 7, [3, 3], [1, 1], [1, 1], [0, 0, 0, 0], 1),
    geometry(1, 6, [4, 19], 8, [1, 2], [1, 1], [1, 1], [0, 0, 0, 0], 2),
    // Padded or strided inputs with 16+ wide rows, not a multiple of 8: computed on rows
    // widened to a multiple of 8, the extra columns dropped.
    geometry(1, 5, [6, 52], 7, [3, 3], [1, 1], [1, 1], [1, 1, 1, 1], 1),
    geometry(2, 3, [9, 45], 9, [3, 3], [2, 2], [1, 1], [1, 1, 1, 1], 1),
    geometry(1, 4, [5, 37], 6, [1, 1], [1, 2], [1, 1], [0, 0, 0, 0], 2),
    // Depthwise on rows wide enough for the vector phase split and several lane blocks:
    // stride 2 with odd and even left padding, stride 1 and 3, dilation.
    geometry(1, 3, [9, 37], 3, [3, 3], [2, 2], [1, 1], [1, 1, 1, 1], 3),
    geometry(2, 4, [10, 40], 4, [3, 3], [2, 2], [1, 1], [0, 2, 1, 1], 4),
    geometry(1, 2, [5, 35], 2, [5, 5], [1, 1], [1, 1], [2, 2, 2, 2], 2),
    geometry(1, 2, [11, 29], 2, [3, 3], [3, 3], [1, 1], [1, 1, 1, 1], 2),
    geometry(1, 2, [12, 70], 2, [3, 3], [2, 2], [2, 2], [2, 3, 2, 0], 2),
    // Depthwise on planes shorter than the kernel (most taps in the padding, skipped):
    // rows of four vectors and a tail, rows taken in pairs, an odd last row, stride (2, 1).
    geometry(1, 4, [2, 96], 4, [5, 5], [1, 1], [1, 1], [2, 2, 2, 2], 4),
    geometry(2, 3, [3, 21], 3, [5, 5], [1, 1], [1, 1], [2, 2, 2, 2], 3),
    geometry(1, 2, [7, 40], 2, [3, 3], [2, 1], [1, 1], [1, 1, 1, 1], 2),
    geometry(1, 2, [1, 9], 2, [3, 3], [1, 1], [1, 1], [1, 1, 1, 1], 2),
    // A few output pixels per image (few.rs): a strided 1-D STFT-style conv, padded 2-D
    // with batch 2, dilated with more output channels than a weight panel holds.
    geometry(1, 1, [1, 40], 20, [1, 16], [1, 8], [1, 1], [0, 0, 0, 0], 1),
    geometry(2, 3, [3, 3], 7, [3, 3], [2, 2], [1, 1], [1, 1, 1, 1], 1),
    geometry(1, 5, [4, 6], 70, [3, 3], [1, 1], [2, 2], [1, 1, 1, 1], 1),
    geometry(3, 300, [1, 1], 9, [1, 1], [1, 1], [1, 1], [0, 0, 0, 0], 1),
    // Pointwise convs read as one run per plane; with 16+ panels of output channels they
    // are packed (AVX-512): odd planes, batch 2, two groups, a reduction split in chunks.
    geometry(1, 5, [9, 13], 7, [1, 1], [1, 1], [1, 1], [0, 0, 0, 0], 1),
    geometry(2, 9, [7, 7], 100, [1, 1], [1, 1], [1, 1], [0, 0, 0, 0], 1),
    geometry(1, 8, [5, 11], 194, [1, 1], [1, 1], [1, 1], [0, 0, 0, 0], 2),
    geometry(1, 600, [3, 5], 97, [1, 1], [1, 1], [1, 1], [0, 0, 0, 0], 1),
    // Packed 3x3 rows in pairs of panels (the second of one row) with a chunked reduction.
    geometry(1, 64, [9, 21], 31, [3, 3], [1, 1], [1, 1], [1, 1, 1, 1], 1),
    geometry(2, 7, [12, 19], 26, [3, 3], [2, 2], [1, 1], [1, 0, 1, 2], 1),
    // Planes one column wide with `[k, 1]` kernels, run along one row: padded, strided
    // and dilated down the column, batch 2, many channels, depthwise.
    geometry(2, 6, [20, 1], 9, [5, 1], [2, 1], [1, 1], [2, 0, 1, 0], 1),
    geometry(1, 40, [70, 1], 70, [3, 1], [1, 1], [2, 1], [0, 0, 0, 0], 1),
    geometry(1, 4, [33, 1], 4, [3, 1], [1, 1], [1, 1], [1, 0, 1, 0], 4),
];
