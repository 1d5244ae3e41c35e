//! Payhip's signature is the hash of an API key that never changes: kept in the quarantine it
//! would let whoever reads the database forge webhooks, so it is sealed
//! ([`crate::providers::seal`]): a body sealed under another key stays refused.

use chrono::{DateTime, Utc};

use super::translate::{translate, Envelope};
use super::{lenient, LEGACY_KIND};
use crate::providers::json_object;
use crate::providers::seal as sealing;

/// `body` with its signature sealed, when it is a Payhip event (it translates) signed with
/// some key (a 64-digit lowercase hex signature). Pure.
pub fn seal(body: &[u8], received_at: DateTime<Utc>) -> Option<Vec<u8>> {
    let value = json_object(body).ok()?;
    let envelope: Envelope = lenient::parse(&value).ok()?;
    let signature = envelope.signature?;
    let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    if signature.len() != 64 || !signature.bytes().all(hex) {
        return None;
    }
    let kind = envelope.kind.unwrap_or_else(|| LEGACY_KIND.to_owned());
    translate(&kind, &value, body, received_at).ok()?;
    let text = std::str::from_utf8(body).ok()?;
    let sealed = sealing::seal(text, &signature)?;
    // A signature written with JSON escapes is not found as text: such a body is not kept
    // rather than kept with its signature.
    let check: Envelope = lenient::parse(&json_object(sealed.as_bytes()).ok()?).ok()?;
    check
        .signature
        .is_some_and(|s| s == sealing::sealed(&signature))
        .then(|| sealed.into_bytes())
}

/// `body` with the seal of `expected` (the current signature) put back as `expected`; a body
/// sealed under another key is returned unchanged, and fails the signature check.
pub fn unseal(body: &[u8], expected: &str) -> Vec<u8> {
    sealing::unseal_bytes(body, expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::sha256_hex;
    use serde_json::json;

    fn sale(signature: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "type": "paid", "id": "TX1", "price": 1999, "currency": "USD", "date": 1700000000,
            "email": "buyer@example.com", "signature": signature,
            "items": [{"product_name": "Course", "quantity": 1}]
        }))
        .unwrap()
    }

    #[test]
    fn a_sale_signed_with_a_new_key_is_kept_without_its_signature_and_restored_by_that_key() {
        let new = sha256_hex(b"new key");
        let body = sale(&new);
        let kept = seal(&body, Utc::now()).expect("a Payhip sale is kept");
        assert!(!String::from_utf8_lossy(&kept).contains(&new));
        assert_eq!(unseal(&kept, &new), body);
        let old = sha256_hex(b"old key");
        assert_eq!(unseal(&kept, &old), kept, "another key does not unseal it");
    }

    #[test]
    fn what_is_not_a_signed_payhip_event_is_not_kept() {
        assert!(seal(&sale("not-hex"), Utc::now()).is_none());
        assert!(seal(&sale(&"A".repeat(64)), Utc::now()).is_none());
        assert!(seal(b"{\"hello\": 1}", Utc::now()).is_none());
        assert!(seal(b"not json", Utc::now()).is_none());
        let unknown = serde_json::to_vec(&json!({"type": "paid", "signature": sha256_hex(b"k")}));
        assert!(
            seal(&unknown.unwrap(), Utc::now()).is_none(),
            "no sale fields"
        );
    }

    #[test]
    fn a_signature_written_with_escapes_is_not_kept() {
        let sig = sha256_hex(b"k");
        let text = String::from_utf8(sale(&sig)).unwrap();
        let escaped = text.replace(&sig, &format!("\\u00{:x}{}", sig.as_bytes()[0], &sig[1..]));
        assert!(seal(escaped.as_bytes(), Utc::now()).is_none());
    }
}
