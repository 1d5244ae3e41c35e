//! `/test`: a sample event through the real pipeline.

use chrono::Utc;
use poise::CreateReply;

use super::{CommandError, Context};

#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum TestChoice {
    #[name = "paid"]
    Paid,
    #[name = "refunded"]
    Refunded,
    #[name = "subscription.created"]
    SubscriptionCreated,
    #[name = "subscription.deleted"]
    SubscriptionDeleted,
}

/// Sends a sample event through the real pipeline, marked TEST and never counted.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn test(
    ctx: Context<'_>,
    #[description = "Event type"] r#type: TestChoice,
) -> Result<(), CommandError> {
    let state = ctx.data();
    let kind = match r#type {
        TestChoice::Paid => "paid",
        TestChoice::Refunded => "refunded",
        TestChoice::SubscriptionCreated => "subscription.created",
        TestChoice::SubscriptionDeleted => "subscription.deleted",
    };
    let Some(key) = state.settings().secrets.payhip_api_key.clone() else {
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
    let body = crate::providers::payhip::sample(kind, &key, Utc::now())
        .ok_or_else(|| CommandError::Internal(format!("no sample for {kind}")))?;
    let bytes = serde_json::to_vec(&body).map_err(|e| CommandError::Internal(e.to_string()))?;
    let result =
        crate::webhook::intake(state, provider.as_ref(), &Default::default(), &bytes).await;
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
