//! Money: integer minor units with a currency, formatted per currency and converted from decimal
//! text without a float. Split from `domain` so the event model reads on its own.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Money in integer minor units (cents) with its ISO 4217 currency code. Never a float.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: String,
    /// A game's own currency (Xsolla virtual currency), not money: `currency` is its name as the
    /// store sends it and `minor` counts whole units. Shown as such and never summed with money.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub virtual_currency: bool,
}

impl Money {
    pub fn new(minor: i64, currency: impl Into<String>) -> Self {
        Self {
            minor,
            currency: currency.into().trim().to_ascii_uppercase(),
            virtual_currency: false,
        }
    }

    /// `units` of the virtual currency named `name` (kept as the store spells it).
    pub fn virtual_units(units: i64, name: impl Into<String>) -> Self {
        Self {
            minor: units,
            currency: name.into().trim().to_owned(),
            virtual_currency: true,
        }
    }

    /// Digits after the decimal point: none for virtual currency, which counts whole units.
    pub fn exponent(&self) -> u32 {
        if self.virtual_currency {
            0
        } else {
            currency_exponent(&self.currency)
        }
    }
}

/// Digits after the decimal point for a currency; ISO 4217's exceptions to the usual two.
pub fn currency_exponent(code: &str) -> u32 {
    match code {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

fn currency_symbol(code: &str) -> Option<&'static str> {
    Some(match code {
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "¥",
        "INR" => "₹",
        "KRW" => "₩",
        "BRL" => "R$",
        "CAD" => "CA$",
        "AUD" => "A$",
        "NZD" => "NZ$",
        "CHF" => "CHF ",
        "PLN" => "zł ",
        "RUB" => "₽",
        "TRY" => "₺",
        "UAH" => "₴",
        "MXN" => "MX$",
        _ => return None,
    })
}

impl fmt::Display for Money {
    /// `$12.50`, `€0.99`, `¥1200`, `12.500 KWD`: symbol when well known, code otherwise;
    /// `2000 gold (virtual currency)` for a game's own currency.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.virtual_currency {
            return write!(f, "{} {} (virtual currency)", self.minor, self.currency);
        }
        let exp = currency_exponent(&self.currency);
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let number = if exp == 0 {
            abs.to_string()
        } else {
            let unit = 10u64.pow(exp);
            format!(
                "{}.{:0width$}",
                abs / unit,
                abs % unit,
                width = exp as usize
            )
        };
        match currency_symbol(&self.currency) {
            Some(sym) => write!(f, "{sign}{sym}{number}"),
            None if self.currency.is_empty() => write!(f, "{sign}{number}"),
            None => write!(f, "{sign}{number} {}", self.currency),
        }
    }
}

/// Converts a decimal amount in major units ("9.99", "2", "1e2" is refused) to minor units
/// exactly, without going through a float.
pub fn decimal_to_minor(text: &str, currency: &str) -> Option<i64> {
    decimal_to_scaled(text, currency_exponent(currency))
}

/// A decimal amount scaled by `10^exponent` exactly, or `None` when it has more digits after the
/// point than that (never rounded) or does not fit.
pub fn decimal_to_scaled(text: &str, exponent: u32) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int_part, frac_part) = match digits.split_once('.') {
        Some((i, f)) => (i, f),
        None => (digits, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let exp = exponent as usize;
    let significant = frac_part.trim_end_matches('0');
    if significant.len() > exp {
        return None;
    }
    let mut value: i64 = 0;
    for b in int_part.bytes() {
        value = value.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    for i in 0..exp {
        let d = frac_part
            .as_bytes()
            .get(i)
            .map_or(0, |b| i64::from(b - b'0'));
        value = value.checked_mul(10)?.checked_add(d)?;
    }
    Some(if negative { -value } else { value })
}
