//! The blocked driver alone against the direct convolution: on AVX-512 CPUs the other paths
//! take nearly every shape, so [`super::conv2d`] no longer reaches it for most cases.

use super::cases::CASES;
use super::tests::{Case, Lcg};
use super::{Epilogue, driver};

/// Every case, plain and with a residual and clamp.
#[test]
fn the_blocked_driver_matches_direct_convolution() {
    let mut rng = Lcg::new(19);
    for g in CASES {
        let Case {
            x,
            packed,
            want,
            tol,
        } = Case::new(&g, &mut rng);
        let mut got = vec![f32::NAN; want.len()];
        driver::conv2d_blocked(&x, &g, &packed, &Epilogue::default(), &mut got).unwrap();
        let z = rng.vec(want.len());
        let mut sum = z.clone();
        let epi = Epilogue {
            min: 0.0,
            max: 0.25,
            accumulate: true,
        };
        driver::conv2d_blocked(&x, &g, &packed, &epi, &mut sum).unwrap();
        for (i, ((a, b), (z, s))) in want.iter().zip(&got).zip(z.iter().zip(&sum)).enumerate() {
            assert!((a - b).abs() <= tol, "{g:?}: value {i}: want {a}, got {b}");
            let r = (a + z).clamp(0.0, 0.25);
            assert!(
                (r - s).abs() <= tol,
                "{g:?} residual: value {i}: want {r}, got {s}"
            );
        }
    }
}
