//! The pools against their definitions.

use super::*;

fn reference(x: &[f32], rows: PoolAxis, cols: PoolAxis) -> Vec<f32> {
    let mut out = Vec::new();
    for oy in 0..rows.output {
        for ox in 0..cols.output {
            let mut m = f32::NEG_INFINITY;
            for ky in 0..rows.kernel {
                for kx in 0..cols.kernel {
                    if let (Some(iy), Some(ix)) = (rows.tap(oy, ky), cols.tap(ox, kx)) {
                        m = m.max(x[iy * cols.input + ix]);
                    }
                }
            }
            out.push(m);
        }
    }
    out
}

fn axis(
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    pads: (usize, usize),
    ceil: bool,
) -> PoolAxis {
    let span = (kernel - 1) * dilation + 1;
    let room = input + pads.0 + pads.1 - span;
    let output = if ceil {
        room.div_ceil(stride) + 1
    } else {
        room / stride + 1
    };
    PoolAxis {
        input,
        output,
        kernel,
        stride,
        dilation,
        pad: pads.0,
        pad_end: pads.1,
    }
}

/// The average by its definition, in f64: in-range taps over their count, or over the taps
/// inside the explicit padding.
fn average(x: &[f32], rows: PoolAxis, cols: PoolAxis, include: bool) -> Vec<f32> {
    let inside = |a: &PoolAxis, o: usize, t: usize| {
        o * a.stride + t * a.dilation < a.pad + a.input + a.pad_end
    };
    let mut out = Vec::new();
    for oy in 0..rows.output {
        for ox in 0..cols.output {
            let (mut sum, mut n) = (0f64, 0usize);
            for ky in 0..rows.kernel {
                for kx in 0..cols.kernel {
                    let tap = (rows.tap(oy, ky), cols.tap(ox, kx));
                    if let (Some(iy), Some(ix)) = tap {
                        sum += f64::from(x[iy * cols.input + ix]);
                        n += 1;
                    } else if include && inside(&rows, oy, ky) && inside(&cols, ox, kx) {
                        n += 1;
                    }
                }
            }
            out.push((sum / n as f64) as f32);
        }
    }
    out
}

#[test]
fn averages_match_the_definition() {
    let x: Vec<f32> = (0..3 * 14 * 61)
        .map(|i| ((i * 37 % 23) as f32) * 0.25 - 2.0)
        .collect();
    for (k, s, d, pads, ceil) in [
        (3, 2, 1, (1, 1), false),
        (3, 2, 1, (0, 1), true),
        (2, 2, 1, (0, 0), false),
        (3, 1, 1, (1, 1), false),
        (5, 3, 1, (2, 0), true),
        (3, 1, 2, (2, 2), false),
        (2, 1, 1, (1, 0), true),
        (5, 1, 1, (2, 2), false),
        (4, 1, 2, (3, 1), true),
    ] {
        for include in [false, true] {
            let rows = axis(14, k, s, d, pads, ceil);
            let cols = axis(61, k, s, d, pads, ceil);
            let mut out = vec![0f32; 3 * rows.output * cols.output];
            avg_pool2d(&x, 3, rows, cols, include, &mut out).unwrap();
            let want: Vec<f32> = x
                .chunks(14 * 61)
                .flat_map(|p| average(p, rows, cols, include))
                .collect();
            for (i, (a, b)) in out.iter().zip(&want).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                    "k{k} s{s} d{d} pads{pads:?} ceil {ceil} include {include}: {i}: {a} vs {b}"
                );
            }
        }
    }
}

#[test]
fn matches_the_definition() {
    for (h, w) in [(13, 11), (9, 64), (6, 57)] {
        let x: Vec<f32> = (0..3 * h * w)
            .map(|i| ((i * 37 % 23) as f32) - 11.0)
            .collect();
        for (k, s, d, pads, ceil) in [
            (3, 2, 1, (1, 1), false),
            (3, 2, 1, (0, 1), true),
            (2, 2, 1, (0, 0), false),
            (3, 1, 1, (1, 1), false),
            (5, 3, 1, (2, 0), true),
            (3, 1, 2, (2, 2), false),
            (1, 1, 1, (0, 0), false),
            (5, 1, 1, (2, 2), false),
            (9, 1, 1, (4, 4), false),
            (4, 1, 2, (3, 1), true),
        ] {
            let rows = axis(h, k, s, d, pads, ceil);
            let cols = axis(w, k, s, d, pads, ceil);
            let mut out = vec![0f32; 3 * rows.output * cols.output];
            max_pool2d(&x, 3, rows, cols, &mut out).unwrap();
            let want: Vec<f32> = x
                .chunks(h * w)
                .flat_map(|p| reference(p, rows, cols))
                .collect();
            assert_eq!(out, want, "{h}x{w} k{k} s{s} d{d} pads{pads:?} ceil {ceil}");
        }
    }
}

#[test]
fn a_nan_in_a_window_makes_its_maximum_nan() {
    let (h, w) = (7, 45);
    let mut x: Vec<f32> = (0..2 * h * w)
        .map(|i| ((i * 37 % 23) as f32) - 11.0)
        .collect();
    for at in [0, 33, 2 * w + 17, h * w - 1, h * w + 5 * w + 32] {
        x[at] = f32::NAN;
    }
    for (k, pads, ceil) in [(3, (1, 1), false), (3, (0, 1), true), (2, (0, 0), false)] {
        let rows = axis(h, k, 2, 1, pads, ceil);
        let cols = axis(w, k, 2, 1, pads, ceil);
        let mut out = vec![0f32; 2 * rows.output * cols.output];
        max_pool2d(&x, 2, rows, cols, &mut out).unwrap();
        let mut i = 0;
        for p in x.chunks(h * w) {
            let finite: Vec<f32> = p
                .iter()
                .map(|v| if v.is_nan() { 1e9 } else { *v })
                .collect();
            let marked = reference(&finite, rows, cols);
            let clean = reference(
                &p.iter()
                    .map(|v| if v.is_nan() { -1e9 } else { *v })
                    .collect::<Vec<_>>(),
                rows,
                cols,
            );
            for (m, c) in marked.iter().zip(&clean) {
                let has_nan = *m == 1e9;
                assert_eq!(out[i].is_nan(), has_nan, "k{k} pads{pads:?}: output {i}");
                if !has_nan {
                    assert_eq!(out[i], *c, "k{k} pads{pads:?}: output {i}");
                }
                i += 1;
            }
        }
    }
}

/// A window that is the whole plane (7x7 on 7x7, 13x21 on 13x21: the classifier-head pools)
/// gives the definition's average and maximum, NaN included, on several planes.
#[test]
fn a_whole_plane_window_matches_the_definition() {
    for (h, w) in [(7, 7), (13, 21), (1, 5)] {
        let mut x: Vec<f32> = (0..4 * h * w)
            .map(|i| ((i * 37 % 23) as f32) * 0.25 - 2.0)
            .collect();
        x[2 * h * w + h * w / 2] = f32::NAN;
        let rows = axis(h, h, 1, 1, (0, 0), false);
        let cols = axis(w, w, 1, 1, (0, 0), false);
        let mut avg = vec![0f32; 4];
        avg_pool2d(&x, 4, rows, cols, false, &mut avg).unwrap();
        let mut max = vec![0f32; 4];
        max_pool2d(&x, 4, rows, cols, &mut max).unwrap();
        for (p, plane) in x.chunks(h * w).enumerate() {
            let want = average(plane, rows, cols, false)[0];
            let top = reference(plane, rows, cols)[0];
            if p == 2 {
                assert!(avg[p].is_nan() && max[p].is_nan(), "{h}x{w} plane {p}");
                continue;
            }
            assert!(
                (avg[p] - want).abs() <= 1e-6 * want.abs().max(1.0),
                "{h}x{w} plane {p}"
            );
            assert_eq!(max[p], top, "{h}x{w} plane {p}");
        }
    }
}

/// Stride-1 windows that keep the plane's size (the register path on AVX-512 CPUs, which
/// these tests require to be taken there): maxima with NaN and averages against the definition.
#[test]
fn size_keeping_stride_one_windows_match_the_definition() {
    for (h, w) in [(13, 13), (5, 3), (1, 17), (27, 20)] {
        let mut x: Vec<f32> = (0..2 * h * w)
            .map(|i| ((i * 37 % 23) as f32) * 0.5 - 5.0)
            .collect();
        x[h * w + (h / 2) * w + w / 2] = f32::NAN;
        for (k, pads) in [
            (3, (1, 1)),
            (5, (2, 2)),
            (13, (6, 6)),
            (4, (2, 1)),
            (2, (0, 1)),
        ] {
            let (rows, cols) = (axis(h, k, 1, 1, pads, false), axis(w, k, 1, 1, pads, false));
            let mut probe = vec![0f32; h * w];
            let taken = stride1::plane(&x[..h * w], rows, cols, true, &mut probe);
            assert_eq!(taken, cpu::features().avx512(), "{h}x{w} k{k}");
            let mut out = vec![0f32; 2 * h * w];
            max_pool2d(&x, 2, rows, cols, &mut out).unwrap();
            let marked: Vec<f32> = x
                .iter()
                .map(|v| if v.is_nan() { 1e9 } else { *v })
                .collect();
            let clean: Vec<f32> = x
                .iter()
                .map(|v| if v.is_nan() { -1e9 } else { *v })
                .collect();
            for (p, got) in out.chunks(h * w).enumerate() {
                let plane = p * h * w..(p + 1) * h * w;
                let nan = reference(&marked[plane.clone()], rows, cols);
                let want = reference(&clean[plane], rows, cols);
                for (i, g) in got.iter().enumerate() {
                    let what = format!("{h}x{w} k{k} pads{pads:?} plane {p} output {i}");
                    assert_eq!(g.is_nan(), nan[i] == 1e9, "{what}");
                    assert!(g.is_nan() || *g == want[i], "{what}: {g} vs {}", want[i]);
                }
            }
            for include in [false, true] {
                avg_pool2d(&clean, 2, rows, cols, include, &mut out).unwrap();
                let want: Vec<f32> = clean
                    .chunks(h * w)
                    .flat_map(|p| average(p, rows, cols, include))
                    .collect();
                for (i, (a, b)) in out.iter().zip(&want).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                        "{h}x{w} k{k} average {i}: {a} vs {b}"
                    );
                }
            }
        }
    }
}
