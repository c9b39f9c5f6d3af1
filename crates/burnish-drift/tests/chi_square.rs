//! Chi-square distribution against table values, and the homogeneity test.

use burnish_drift::chi_square::chi_square_homogeneity;
use burnish_stats::special::{chi_square_cdf, chi_square_sf};

#[test]
fn critical_values_from_tables() {
    // (x, df, upper-tail probability), standard chi-square table entries.
    let table = [
        (3.841_458_820_694_124, 1.0, 0.05),
        (6.634_896_601_021_214, 1.0, 0.01),
        (5.991_464_547_107_979, 2.0, 0.05),
        (7.814_727_903_251_178, 3.0, 0.05),
        (18.307_038_053_275_146, 10.0, 0.05),
        (23.209_251_158_954_356, 10.0, 0.01),
        (124.342_113_404_070_7, 100.0, 0.05),
        (0.454_936_423_119_572_7, 1.0, 0.5),
    ];
    for (x, df, p) in table {
        let sf = chi_square_sf(x, df);
        assert!((sf - p).abs() < 1e-9, "sf({x}, {df}) = {sf}, table {p}");
        assert!((chi_square_cdf(x, df) + sf - 1.0).abs() < 1e-12);
    }
}

#[test]
fn closed_forms() {
    // df = 2: sf(x) = e^{−x/2}. df = 1: sf(x) = erfc(√(x/2)); at x = 1 that is 0.3173105078629141.
    for x in [0.1, 1.0, 5.0, 40.0] {
        assert!(
            (chi_square_sf(x, 2.0) - (-x / 2.0).exp()).abs() < 1e-14 * (1.0 + (-x / 2.0).exp())
        );
    }
    assert!((chi_square_sf(1.0, 1.0) - 0.317_310_507_862_914_1).abs() < 1e-12);
    // Far tail keeps relative precision: sf(200, 1) = erfc(10) = 2.088487583762545e-45.
    let tail = chi_square_sf(200.0, 1.0);
    assert!(
        (tail / 2.088_487_583_762_545e-45 - 1.0).abs() < 1e-9,
        "{tail}"
    );
    assert_eq!(chi_square_sf(0.0, 3.0), 1.0);
}

#[test]
fn homogeneity_2x2_by_hand() {
    // Table [[30, 70], [60, 40]]: expected [[45, 55], [45, 55]];
    // χ² = 2·15²/45 + 2·15²/55 = 10 + 8.1818… = 18.1818…, df 1.
    let t = chi_square_homogeneity(&[30, 70], &[60, 40]);
    assert_eq!(t.df, 1);
    assert!((t.statistic - (10.0 + 450.0 / 55.0)).abs() < 1e-12);
    assert!((t.p_value - chi_square_sf(t.statistic, 1.0)).abs() < 1e-15);
    let same = chi_square_homogeneity(&[10, 20, 30], &[20, 40, 60]);
    assert!(same.statistic.abs() < 1e-12 && (same.p_value - 1.0).abs() < 1e-12);
    assert_eq!(chi_square_homogeneity(&[5, 0], &[7, 0]).p_value, 1.0);
}
