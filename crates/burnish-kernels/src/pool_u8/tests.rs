//! The u8 pool against a direct maximum, on every route this CPU runs.

use super::*;

fn axis(input: usize, kernel: usize, stride: usize, dilation: usize, pad: usize) -> PoolAxis {
    let span = (kernel - 1) * dilation + 1;
    PoolAxis {
        input,
        output: (input + 2 * pad - span) / stride + 1,
        kernel,
        stride,
        dilation,
        pad,
        pad_end: pad,
    }
}

/// The maximum over each window's in-range taps, as u8 or i8 codes.
fn reference(x: &[u8], planes: usize, r: PoolAxis, c: PoolAxis, signed: bool) -> Vec<u8> {
    let key = |v: u8| {
        if signed {
            i16::from(v as i8)
        } else {
            i16::from(v)
        }
    };
    let mut out = Vec::new();
    for p in 0..planes {
        for oy in 0..r.output {
            for ox in 0..c.output {
                let best = (0..r.kernel)
                    .filter_map(|t| tap(&r, oy, t))
                    .flat_map(|y| {
                        (0..c.kernel)
                            .filter_map(move |t| tap(&c, ox, t))
                            .map(move |xx| x[(p * r.input + y) * c.input + xx])
                    })
                    .max_by_key(|&v| key(v))
                    .unwrap();
                out.push(best);
            }
        }
    }
    out
}

/// Every route this CPU runs.
fn routes() -> Vec<Isa> {
    let mut all = vec![Isa::Portable];
    #[cfg(target_arch = "x86_64")]
    {
        if crate::cpu::features().avx2_fma() {
            all.push(Isa::Avx2);
        }
        if Isa::probe() == Isa::Avx512 {
            all.push(Isa::Avx512);
        }
    }
    all
}

#[test]
fn windows_match_a_direct_maximum() {
    let mut rng = burnish_stats::Rng::new(7);
    let cases = [
        (3, axis(111, 3, 2, 1, 0), axis(111, 3, 2, 1, 0)),
        (2, axis(27, 3, 2, 1, 1), axis(70, 3, 2, 1, 1)),
        (2, axis(13, 5, 1, 1, 2), axis(13, 5, 1, 1, 2)),
        (1, axis(9, 2, 2, 1, 0), axis(130, 2, 2, 1, 0)),
        (2, axis(11, 3, 3, 2, 1), axis(40, 3, 3, 2, 2)),
        (1, axis(1, 1, 1, 1, 0), axis(57, 4, 1, 3, 0)),
        // Windows past the taps held in registers at a time.
        (1, axis(40, 19, 1, 1, 9), axis(45, 35, 1, 1, 17)),
    ];
    for (planes, r, c) in cases {
        let x: Vec<u8> = (0..planes * r.input * c.input)
            .map(|_| rng.next_u64() as u8)
            .collect();
        for (isa, signed) in routes().into_iter().flat_map(|i| [(i, false), (i, true)]) {
            let mut got = vec![0u8; planes * r.output * c.output];
            pool_on(isa, &x, planes, r, c, signed, &mut got).unwrap();
            let want = reference(&x, planes, r, c, signed);
            assert!(got == want, "{isa:?} {r:?} {c:?} signed {signed}");
        }
    }
    let r = axis(4, 2, 2, 1, 0);
    assert!(max_pool2d_u8(&[0; 15], 1, r, r, false, &mut [0; 4]).is_none());
}
