//! `/test`: a sample event through the real pipeline.

use poise::serenity_prelude as serenity;
use poise::CreateReply;

use super::{CommandError, Context};
use crate::providers::payhip::SAMPLE_KINDS;

/// The Payhip event a `/test type` names. Payhip's own names, and the words sellers of the
/// JavaScript bot typed (`sale`, `refund`, `subscription_created`, …), in any case and with `.`,
/// `_`, `-` or a space between words.
pub fn sample_kind(value: &str) -> Option<&'static str> {
    let v: String = value
        .trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| if matches!(c, '.' | '-' | ' ') { '_' } else { c })
        .collect();
    Some(match v.as_str() {
        "paid" | "sale" | "new_sale" | "newsale" | "purchase" | "order" => "paid",
        "refunded" | "refund" => "refunded",
        "subscription_created" | "subscription" | "subscription_started" | "new_subscription" => {
            "subscription.created"
        }
        "subscription_deleted"
        | "subscription_cancelled"
        | "subscription_canceled"
        | "subscription_ended"
        | "cancelled_subscription"
        | "canceled_subscription" => "subscription.deleted",
        _ => return None,
    })
}

async fn autocomplete_type(
    _ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let partial = partial.trim().to_ascii_lowercase();
    let choices = SAMPLE_KINDS
        .iter()
        .filter(|k| k.contains(&partial) || sample_kind(&partial).is_some_and(|kind| kind == **k))
        .map(|k| serenity::AutocompleteChoice::from(*k))
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// Sends a sample event through the real pipeline, marked TEST and never counted.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn test(
    ctx: Context<'_>,
    #[description = "paid, refunded, subscription.created or subscription.deleted"]
    #[autocomplete = "autocomplete_type"]
    r#type: String,
) -> Result<(), CommandError> {
    let state = ctx.data();
    let Some(kind) = sample_kind(&r#type) else {
        return Err(CommandError::User(format!(
            "There is no test event called \"{}\": use paid (or sale), refunded (or refund), subscription.created or subscription.deleted.",
            r#type.chars().take(40).collect::<String>()
        )));
    };
    // The store `payhip` of the `stores` list, when there is one, verifies with its own variable.
    let secrets = &state.settings().secrets;
    let key = match state
        .config()
        .listed_store(crate::providers::payhip::NAME)
        .and_then(|s| s.secret_var())
    {
        Some(var) => crate::providers::registry::secret(secrets, var),
        None => secrets.payhip_api_key.clone(),
    };
    let Some(key) = key else {
        return Err(CommandError::User(
            "PAYHIP_API_KEY is not set, so the bot cannot accept Payhip webhooks yet.".into(),
        ));
    };
    let provider = state
        .providers()
        .iter()
        .find(|p| p.name() == crate::providers::payhip::NAME)
        .cloned()
        .ok_or_else(|| CommandError::Internal("payhip provider missing".into()))?;
    let body = crate::providers::payhip::sample(kind, &key, state.clock().now())
        .ok_or_else(|| CommandError::Internal(format!("no sample for {kind}")))?;
    let bytes = serde_json::to_vec(&body).map_err(|e| CommandError::Internal(e.to_string()))?;
    let result = crate::intake::intake(state, provider.as_ref(), &Default::default(), &bytes).await;
    let text = match result {
        Ok(_) => format!("A test `{kind}` event went through the pipeline; its notice (marked TEST) is on its way. It is not counted in stats."),
        Err(e) => {
            tracing::warn!("/test failed: {e}");
            return Err(CommandError::User("The test event was not accepted; see the bot's log.".into()));
        }
    };
    ctx.send(CreateReply::default().content(text).ephemeral(true))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_javascript_bots_words_and_payhips_names_both_work() {
        for (typed, kind) in [
            ("paid", "paid"),
            ("sale", "paid"),
            ("Sale", "paid"),
            ("refunded", "refunded"),
            ("refund", "refunded"),
            ("subscription.created", "subscription.created"),
            ("subscription_created", "subscription.created"),
            ("subscription.deleted", "subscription.deleted"),
            ("subscription_deleted", "subscription.deleted"),
            ("subscription-cancelled", "subscription.deleted"),
        ] {
            assert_eq!(sample_kind(typed), Some(kind), "{typed}");
        }
        assert_eq!(sample_kind("chargeback"), None);
        for kind in SAMPLE_KINDS {
            assert_eq!(sample_kind(kind), Some(kind), "every sample has a name");
        }
    }
}
