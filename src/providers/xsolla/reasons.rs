//! Xsolla's refund reason codes (`refund_details.code`), as its refund webhook page lists them.

use super::payload::RefundDetails;
use crate::domain::Risk;

/// The reason to show (Xsolla's own text, else the meaning of its code), the code, and whether
/// the refund was a chargeback or fraud.
pub(super) fn read(details: &RefundDetails) -> (Option<String>, Option<String>, Option<Risk>) {
    let code = details.code.clone();
    let number = code.as_deref().and_then(|c| c.trim().parse::<u32>().ok());
    let reason = details
        .reason
        .clone()
        .or_else(|| number.and_then(meaning).map(str::to_owned));
    (reason, code, number.and_then(risk))
}

fn meaning(code: u32) -> Option<&'static str> {
    Some(match code {
        1 => "Cancelled at the user's or the game's request",
        2 => "Chargeback",
        3 => "Integration error",
        4 => "Potential fraud",
        5 => "Test payment",
        6 => "User invoice expired",
        7 => "Fraud reported by the payment system",
        8 => "Cancelled at the payment system's request",
        9 => "The user was not satisfied",
        10 => "Cancelled at the game's request",
        11 => "The account holder reported fraud",
        12 => "Friendly fraud",
        13 => "Duplicate payment",
        _ => return None,
    })
}

/// Chargebacks, and the codes by which Xsolla or the payment system report fraud.
fn risk(code: u32) -> Option<Risk> {
    match code {
        2 => Some(Risk::Chargeback),
        4 | 7 | 11 | 12 => Some(Risk::Fraud),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(code: &str, reason: Option<&str>) -> RefundDetails {
        RefundDetails {
            code: Some(code.to_owned()),
            reason: reason.map(str::to_owned),
        }
    }

    #[test]
    fn every_documented_code_has_a_meaning_and_risky_ones_are_flagged() {
        for code in 1..=13 {
            let (reason, kept, _) = read(&details(&code.to_string(), None));
            assert!(reason.is_some(), "code {code}");
            assert_eq!(kept.as_deref(), Some(code.to_string().as_str()));
        }
        let flags: Vec<(u32, Risk)> = (1..=13)
            .filter_map(|c| read(&details(&c.to_string(), None)).2.map(|r| (c, r)))
            .collect();
        assert_eq!(
            flags,
            vec![
                (2, Risk::Chargeback),
                (4, Risk::Fraud),
                (7, Risk::Fraud),
                (11, Risk::Fraud),
                (12, Risk::Fraud)
            ]
        );
        let (reason, _, risk) = read(&details("2", Some("Chargeback from the bank")));
        assert_eq!(reason.as_deref(), Some("Chargeback from the bank"));
        assert_eq!(risk, Some(Risk::Chargeback));
        assert_eq!(read(&RefundDetails::default()), (None, None, None));
    }
}
