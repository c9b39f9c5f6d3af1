//! `PackedLinear` against an f64 reference, across row counts, threads and operand layouts.

use super::*;

fn reference(x: &[f32], w: &[f32], m: usize, k: usize, n: usize, b: Option<&[f32]>) -> Vec<f64> {
    let mut y = vec![0f64; m * n];
    for r in 0..m {
        for j in 0..n {
            let mut s = b.map_or(0.0, |b| b[j] as f64);
            for i in 0..k {
                s += x[r * k + i] as f64 * w[i * n + j] as f64;
            }
            y[r * n + j] = s;
        }
    }
    y
}

#[test]
fn matches_f64_for_odd_shapes_and_transposes() {
    for (m, k, n) in [
        (1, 1, 1),
        (1, 400, 1600),
        (3, 17, 65),
        (4, 64, 64),
        (2, 5, 130),
        (5, 600, 70),
        (9, 257, 64),
        (131, 300, 70),
        (13, 520, 17),
        (6, 64, 129),
        (4, 0, 3),
    ] {
        let x: Vec<f32> = (0..m * k)
            .map(|i| ((i * 7 % 13) as f32 - 6.0) * 0.1)
            .collect();
        let w: Vec<f32> = (0..k * n)
            .map(|i| ((i * 11 % 17) as f32 - 8.0) * 0.05)
            .collect();
        let bias: Vec<f32> = (0..n).map(|j| j as f32 * 0.01).collect();
        let want = reference(&x, &w, m, k, n, Some(&bias));
        let mut wt = vec![0f32; k * n];
        for i in 0..k {
            for j in 0..n {
                wt[j * k + i] = w[i * n + j];
            }
        }
        for (packed, label) in [
            (PackedLinear::new(&w, k, n, false), "plain"),
            (PackedLinear::new(&wt, k, n, true), "transposed"),
        ] {
            let p = packed.unwrap().with_bias(bias.clone()).unwrap();
            let mut out = vec![0f32; m * n];
            p.forward(&x, m, &mut out).unwrap();
            for (a, b) in out.iter().zip(&want) {
                assert!(
                    (*a as f64 - b).abs() < 1e-4 * (1.0 + b.abs()),
                    "{label} {m}x{k}x{n}"
                );
            }
        }
    }
}

#[test]
fn a_rows_result_does_not_depend_on_the_rows_beside_it() {
    let (k, n) = (700, 130);
    let w: Vec<f32> = (0..k * n)
        .map(|i| ((i * 31 % 97) as f32 - 48.0) * 0.013)
        .collect();
    let p = PackedLinear::new(&w, k, n, false)
        .unwrap()
        .with_bias((0..n).map(|j| j as f32 * 0.1).collect())
        .unwrap();
    let m = 7;
    let x: Vec<f32> = (0..m * k)
        .map(|i| ((i * 7 % 23) as f32 - 11.0) * 0.07)
        .collect();
    let mut all = vec![0f32; m * n];
    p.forward(&x, m, &mut all).unwrap();
    for r in 0..m {
        let mut one = vec![0f32; n];
        p.forward(&x[r * k..(r + 1) * k], 1, &mut one).unwrap();
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&one), bits(&all[r * n..(r + 1) * n]), "row {r}");
    }
}

#[test]
fn threads_split_tiles_without_changing_a_bit() {
    let (m, k, n) = (97, 530, 150);
    let w: Vec<f32> = (0..k * n)
        .map(|i| ((i * 13 % 41) as f32 - 20.0) * 0.02)
        .collect();
    let x: Vec<f32> = (0..m * k)
        .map(|i| ((i * 7 % 19) as f32 - 9.0) * 0.05)
        .collect();
    let p = PackedLinear::new(&w, k, n, false)
        .unwrap()
        .with_bias((0..n).map(|j| j as f32 * -0.03).collect())
        .unwrap();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut out = vec![0f32; m * n];
        pool.install(|| p.forward(&x, m, &mut out)).unwrap();
        out.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    };
    let one = run(1);
    assert_eq!(one, run(3));
    let want = reference(&x, &w, m, k, n, p.bias());
    for (a, b) in one.iter().zip(&want) {
        let a = f32::from_bits(*a) as f64;
        assert!((a - b).abs() < 1e-4 * (1.0 + b.abs()), "{a} vs {b}");
    }
}

#[test]
fn a_transposed_operand_gives_the_same_bits() {
    for (m, k, n) in [(49, 300, 70), (7, 5, 130), (1, 16, 16)] {
        let w: Vec<f32> = (0..k * n)
            .map(|i| ((i * 17 % 29) as f32 - 14.0) * 0.03)
            .collect();
        let x: Vec<f32> = (0..m * k)
            .map(|i| ((i * 5 % 31) as f32 - 15.0) * 0.04)
            .collect();
        let mut xt = vec![0f32; m * k];
        for r in 0..m {
            for i in 0..k {
                xt[i * m + r] = x[r * k + i];
            }
        }
        let p = PackedLinear::new(&w, k, n, false).unwrap();
        let (mut a, mut b) = (vec![0f32; m * n], vec![0f32; m * n]);
        p.forward(&x, m, &mut a).unwrap();
        p.forward_transposed(&xt, m, &mut b).unwrap();
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b), "{m}x{k}x{n}");
    }
    let p = PackedLinear::new(&[1.0; 6], 2, 3, false).unwrap();
    assert!(p.forward_transposed(&[1.0; 3], 2, &mut [0.0; 6]).is_none());
}

/// A gathered operand (rows at scattered origins, steps at scattered offsets, as a conv reads
/// its padded input, with a reduction longer than one `KC` slice) gives the bits of the same
/// rows gathered into a row-major `x`, on one thread and split across three; reads past the
/// end are refused.
#[test]
fn a_gathered_operand_gives_the_same_bits() {
    if !cpu::features().avx512() {
        let p = PackedLinear::new(&[1.0; 6], 2, 3, false).unwrap();
        assert!(
            p.forward_gathered(&[1.0; 4], (&[0], &[0, 1]), &mut [0.0; 3], false)
                .is_none()
        );
        return;
    }
    let (m, k, n) = (23, 300, 70);
    let src: Vec<f32> = (0..4000)
        .map(|i| ((i * 7 % 37) as f32 - 18.0) * 0.05)
        .collect();
    let rows: Vec<usize> = (0..m).map(|r| (r * 13) % 41 + r / 5).collect();
    let steps: Vec<usize> = (0..k).map(|i| i * 11 + (i % 3)).collect();
    let mut x = vec![0f32; m * k];
    for (r, &o) in rows.iter().enumerate() {
        for (i, &s) in steps.iter().enumerate() {
            x[r * k + i] = src[o + s];
        }
    }
    let w: Vec<f32> = (0..k * n)
        .map(|i| ((i * 17 % 29) as f32 - 14.0) * 0.03)
        .collect();
    let bias: Vec<f32> = (0..n).map(|j| j as f32 * 0.01).collect();
    let p = PackedLinear::new(&w, k, n, false)
        .unwrap()
        .with_bias(bias)
        .unwrap();
    let mut want = vec![0f32; m * n];
    p.forward(&x, m, &mut want).unwrap();
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    for (threads, parallel) in [(1, false), (3, true)] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut got = vec![0f32; m * n];
        pool.install(|| p.forward_gathered(&src, (&rows, &steps), &mut got, parallel))
            .unwrap();
        assert_eq!(bits(&want), bits(&got), "{threads} thread(s)");
    }
    let reach = rows.iter().max().unwrap() + steps.iter().max().unwrap();
    let short = &src[..reach];
    assert!(
        p.forward_gathered(short, (&rows, &steps), &mut [0.0; 23 * 70], false)
            .is_none()
    );
    assert!(
        p.forward_gathered(&src, (&rows, &steps[1..]), &mut [0.0; 23 * 70], false)
            .is_none()
    );
}

#[test]
fn rejects_mismatched_lengths() {
    assert!(PackedLinear::new(&[1.0; 5], 2, 3, false).is_none());
    let p = PackedLinear::new(&[1.0; 6], 2, 3, false).unwrap();
    assert!(p.clone().with_bias(vec![0.0; 2]).is_none());
    assert!(p.forward(&[1.0; 3], 1, &mut [0.0; 3]).is_none());
}
