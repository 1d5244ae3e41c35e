//! What `/claim` does once it has the buyer's words: find the purchase (by license key, or by
//! order id and email), refuse refunded or cancelled ones, bind it to the member and queue the
//! grants. Every answer is a [`Claimed`] the command turns into words.

use sha2::Digest;

use super::payhip_api::{LicenseError, Verdict};
use super::{ends_purchase, roles_for_sale, roles_for_subscription};
use crate::config::{roles::secret_variable, Secret};
use crate::db::{Bound, DbError, NewClaim};
use crate::domain::{Detail, Event, EventKind};
use crate::state::AppState;

/// The outcome of a claim, as the buyer is told it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    Granted { roles: Vec<u64>, again: bool },
    TakenByOther,
    Ended,
    NotFound,
    Disabled,
    NoRole,
    Unavailable,
}

/// Who is claiming, where.
#[derive(Debug, Clone, Copy)]
pub struct Claimant {
    pub guild: u64,
    pub user: u64,
}

/// A purchase found in storage, with the roles it gives.
struct Found {
    event_id: i64,
    provider: String,
    purchase: String,
    event: Event,
}

/// `/claim order_id email`: stored sales and memberships only, never an API call.
pub async fn by_order(
    state: &AppState,
    who: Claimant,
    order: &str,
    email: &str,
) -> Result<Claimed, DbError> {
    let email = email.trim();
    let order = order.trim();
    if order.is_empty() || email.is_empty() {
        return Ok(Claimed::NotFound);
    }
    let mut found = None;
    for (event_id, provider, purchase, data) in state.store().purchases_by_id(order).await? {
        let Ok(event) = serde_json::from_str::<Event>(&data) else {
            continue;
        };
        let same = event
            .customer
            .email
            .as_deref()
            .is_some_and(|e| e.trim().eq_ignore_ascii_case(email));
        if same {
            found = Some(Found {
                event_id,
                provider,
                purchase,
                event,
            });
            break;
        }
    }
    let Some(found) = found else {
        return Ok(Claimed::NotFound);
    };
    if ended(state, &found).await? {
        return Ok(Claimed::Ended);
    }
    let config = state.config();
    let roles = match &found.event.detail {
        Detail::Sale(s) => roles_for_sale(&config.roles, s),
        Detail::Subscription(s) => roles_for_subscription(&config.roles, s),
        _ => Vec::new(),
    };
    let reason = format!("order {} claimed with its email", found.purchase);
    bind(state, who, &found, &roles, "order", &reason).await
}

/// `/claim license_key`: Payhip's license API says whether the key is valid and enabled; a key
/// stored with a sale the bot received is refused once that sale is refunded, even before Payhip
/// disables it.
pub async fn by_key(state: &AppState, who: Claimant, key: &str) -> Result<Claimed, DbError> {
    let key = key.trim();
    if key.is_empty() || key.len() > 128 {
        return Ok(Claimed::NotFound);
    }
    let stored = stored_sale(state, key).await?;
    if let Some(found) = &stored {
        if ended(state, found).await? {
            return Ok(Claimed::Ended);
        }
    }
    let config = state.config();
    let secrets = &state.settings().secrets.payhip_product_secrets;
    let products: Vec<(&crate::config::ProductRoles, Secret)> = config
        .roles
        .products
        .iter()
        .filter_map(|p| {
            let secret = p
                .secret_key
                .as_ref()
                .map(|s| s.0.clone())
                .or_else(|| secrets.get(&secret_variable(&p.product)).cloned())?;
            Some((p, secret))
        })
        .collect();
    let mut valid = None;
    let mut unavailable = false;
    let mut disabled = false;
    for (product, secret) in &products {
        match state.license_api().verify(key, secret).await {
            Ok(Verdict::Valid) => {
                valid = Some(*product);
                break;
            }
            Ok(Verdict::Disabled) => disabled = true,
            Ok(Verdict::Unknown) => {}
            Err(e @ LicenseError::Refused(_)) => {
                tracing::error!(product = %product.product, "license check: {e}; check this product's secret key");
                unavailable = true;
            }
            Err(e) => {
                tracing::warn!("license check: {e}");
                unavailable = true;
            }
        }
    }
    let sale_roles = |found: &Found| match &found.event.detail {
        Detail::Sale(s) => roles_for_sale(&config.roles, s),
        _ => Vec::new(),
    };
    let reason = "license key claimed".to_owned();
    match (valid, stored) {
        (Some(_), Some(found)) => {
            let roles = sale_roles(&found);
            bind(state, who, &found, &roles, "license_key", &reason).await
        }
        (Some(product), None) => {
            let digest = sha2::Sha256::digest(key.to_uppercase().as_bytes());
            let purchase = format!("license:{}", hex::encode(&digest[..12]));
            let mut record = Event {
                provider: "payhip".into(),
                event_type: "license_claim".into(),
                kind: EventKind::Other,
                idempotency_key: purchase.clone(),
                external_id: purchase.clone(),
                occurred_at: chrono::Utc::now(),
                test: false,
                test_signed: false,
                customer: Default::default(),
                url: None,
                comment: None,
                detail: Detail::Other,
            };
            record.comment = Some(format!("license key of product {}", product.product));
            let data = serde_json::to_string(&record).unwrap_or_default();
            let now = crate::db::now_millis();
            let event_id = state.store().claim_record(&purchase, &data, now).await?;
            let found = Found {
                event_id,
                provider: "payhip".into(),
                purchase,
                event: record,
            };
            bind(state, who, &found, &product.roles, "license_key", &reason).await
        }
        (None, _) if disabled => Ok(Claimed::Disabled),
        // Payhip cannot be asked (or no product has a secret key): a key stored with a sale the
        // bot received is proof enough.
        (None, Some(found)) if unavailable || products.is_empty() => {
            let roles = sale_roles(&found);
            bind(state, who, &found, &roles, "license_key", &reason).await
        }
        (None, _) if unavailable => Ok(Claimed::Unavailable),
        (None, _) => Ok(Claimed::NotFound),
    }
}

/// The stored sale whose items carry this key, if the bot received it.
async fn stored_sale(state: &AppState, key: &str) -> Result<Option<Found>, DbError> {
    for (event_id, provider, purchase, data) in state.store().sales_with_key(key).await? {
        let Ok(event) = serde_json::from_str::<Event>(&data) else {
            continue;
        };
        let Detail::Sale(sale) = &event.detail else {
            continue;
        };
        let carries = sale.items.iter().any(|i| {
            i.license_key
                .as_ref()
                .is_some_and(|k| k.0.trim().eq_ignore_ascii_case(key))
        });
        if carries {
            return Ok(Some(Found {
                event_id,
                provider,
                purchase,
                event,
            }));
        }
    }
    Ok(None)
}

/// Refunded in full, charged back, or a cancelled membership.
async fn ended(state: &AppState, found: &Found) -> Result<bool, DbError> {
    let keep = state.config().roles.keep_on_partial_refund;
    Ok(match &found.event.detail {
        Detail::Subscription(_) => found.event.kind == EventKind::SubscriptionCancelled,
        _ => state
            .store()
            .refunds_of(&found.provider, &found.purchase)
            .await?
            .iter()
            .filter_map(|d| serde_json::from_str::<Event>(d).ok())
            .any(|e| matches!(&e.detail, Detail::Refund(r) if ends_purchase(r, keep))),
    })
}

async fn bind(
    state: &AppState,
    who: Claimant,
    found: &Found,
    roles: &[u64],
    via: &str,
    reason: &str,
) -> Result<Claimed, DbError> {
    if roles.is_empty() {
        return Ok(Claimed::NoRole);
    }
    let claim = NewClaim {
        provider: &found.provider,
        purchase: &found.purchase,
        event_id: found.event_id,
        guild: who.guild,
        user: who.user,
        roles,
        via,
        reason,
        now: crate::db::now_millis(),
    };
    let outcome = state.store().bind_claim(&claim, None).await?;
    state.outbox_wakeup().notify_one();
    Ok(match outcome {
        Bound::New(_) => Claimed::Granted {
            roles: roles.to_vec(),
            again: false,
        },
        Bound::Again(_) => Claimed::Granted {
            roles: roles.to_vec(),
            again: true,
        },
        Bound::TakenByOther(_) | Bound::Lost => Claimed::TakenByOther,
        Bound::Ended(_) => Claimed::Ended,
    })
}
