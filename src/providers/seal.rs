//! Hiding a secret-equivalent value in a request kept by the quarantine (Payhip's signature,
//! Ko-fi's and Gumroad's tokens). Kept as it came, such a value would let whoever reads the
//! database forge webhooks with the store's new key; it is replaced by a hash of itself, and put
//! back at replay only where the current secret hashes to the same. Pure.

use super::sha256_hex;

const SEAL_PREFIX: &str = "sealed-sha256:";

/// What `value` is replaced by.
pub fn sealed(value: &str) -> String {
    format!("{SEAL_PREFIX}{}", sha256_hex(value.as_bytes()))
}

/// A value that is kept only sealed: long enough to be a secret and written the same in JSON,
/// a form and a URL (letters, digits, `-`, `_`, `.`), so every copy of it in the text is found.
pub fn sealable(value: &str) -> bool {
    value.len() >= 8
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// `text` with every copy of `value` sealed; None when `value` cannot be (see [`sealable`]).
pub fn seal(text: &str, value: &str) -> Option<String> {
    sealable(value).then(|| text.replace(value, &sealed(value)))
}

/// `text` with the seal of `current` put back as `current`; a seal of another value stays,
/// and fails the store's check.
pub fn unseal(text: &str, current: &str) -> String {
    text.replace(&sealed(current), current)
}

/// [`unseal`] over bytes; bytes that are not text are returned as they are.
pub fn unseal_bytes(body: &[u8], current: &str) -> Vec<u8> {
    match std::str::from_utf8(body) {
        Ok(text) => unseal(text, current).into_bytes(),
        Err(_) => body.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_sealed_comes_back_only_with_the_same_value() {
        let text = "token=abcdef-123456&again=abcdef-123456";
        let kept = seal(text, "abcdef-123456").unwrap();
        assert!(!kept.contains("abcdef-123456"));
        assert_eq!(unseal(&kept, "abcdef-123456"), text);
        assert_eq!(unseal(&kept, "another-token"), kept);
    }

    #[test]
    fn short_or_escaped_values_are_not_sealed() {
        assert!(seal("x=abc", "abc").is_none(), "too short to be a secret");
        assert!(seal("x=a b c d e f g h", "a b c d e f g h").is_none());
        assert!(seal("x=\"abc/defgh\"", "abc/defgh").is_none());
    }
}
