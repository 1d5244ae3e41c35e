//! Small pieces of wording and arithmetic shared by every reply: "1 order", averages rounded to
//! the nearest cent.

/// "1 order", "2 orders", "0 orders".
pub fn count(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `n / d` rounded to the nearest whole number, halves away from zero ($55.95 ÷ 2 = $27.98), as
/// a shop rounds money. Exact integer arithmetic; `None` when `d` is 0.
pub fn div_round(n: i64, d: i64) -> Option<i64> {
    if d == 0 {
        return None;
    }
    let (n, d) = (i128::from(n), i128::from(d));
    let (q, r) = (n / d, n % d);
    let q = if 2 * r.abs() >= d.abs() {
        q + if (n < 0) == (d < 0) { 1 } else { -1 }
    } else {
        q
    };
    i64::try_from(q).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular() {
        assert_eq!(count(1, "order", "orders"), "1 order");
        assert_eq!(count(0, "order", "orders"), "0 orders");
        assert_eq!(count(2, "refund", "refunds"), "2 refunds");
    }

    #[test]
    fn halves_round_away_from_zero() {
        assert_eq!(div_round(5595, 2), Some(2798));
        assert_eq!(div_round(5594, 2), Some(2797));
        assert_eq!(div_round(1000, 3), Some(333));
        assert_eq!(div_round(2000, 3), Some(667));
        assert_eq!(div_round(-5595, 2), Some(-2798));
        assert_eq!(div_round(5595, -2), Some(-2798));
        assert_eq!(div_round(i64::MAX, 1), Some(i64::MAX));
        assert_eq!(div_round(1, 0), None);
    }
}
