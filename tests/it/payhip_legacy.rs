//! Payhip's older `paid` webhook: no `type`, `date` as a string, VAT amount and country, license
//! keys, and (on some stores) the buyer's answers to checkout questions.

use std::time::Duration;

use axum::http::StatusCode;
use integrations_bot::db::{Grain, RecentQuery};
use integrations_bot::domain::{Detail, LicenseKey};
use serde_json::Value;

use crate::support::discord::FakeDiscord;
use crate::support::*;

const PATH: &str = "/webhook/payhip";
const LICENSE_KEY: &str = "QX7N2-PLK4M-84WZT-RRD9C";

fn field<'a>(embed: &'a Value, name: &str) -> &'a str {
    embed["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no field {name}: {embed}"))["value"]
        .as_str()
        .unwrap()
}

#[tokio::test]
async fn an_older_paid_body_without_type_is_a_sale_with_vat_and_keeps_its_license_keys_private() {
    let discord = FakeDiscord::start().await;
    let app = TestApp::with_discord(discord.base(), |c| {
        c.discord_config.sales_channel_id = Some(77)
    })
    .await;
    let body = payhip_signed("paid_legacy");
    for attempt in ["first", "retry"] {
        let (status, reply) = app.post(PATH, body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{attempt}: {reply}");
    }
    let counts = app.store().table_counts().await.unwrap();
    assert_eq!((counts.events, counts.sales), (1, 1), "one sale, kept once");
    let rows = app
        .store()
        .money_rollup(Grain::Month, 0, i64::MAX / 2, None)
        .await
        .unwrap();
    assert_eq!(rows, vec![("EUR".to_owned(), 1, 1476, 0, 0, 0)]);

    let posted = discord.wait_for_notices(1, Duration::from_secs(20)).await;
    let embed = &posted[0].body["embeds"][0];
    assert_eq!(embed["title"], "New Sale Completed");
    assert_eq!(field(embed, "Total"), "€14.76");
    assert_eq!(field(embed, "VAT"), "€2.76 (Ireland)");
    assert_eq!(field(embed, "Products"), "• Field Recording Pack ×1");
    let notice = posted[0].body.to_string();
    assert!(!notice.contains(LICENSE_KEY), "{notice}");
    assert!(!notice.contains("Reaper"), "checkout answers stay private");

    let (events, _) = app
        .store()
        .recent(&RecentQuery {
            from: 0,
            to: i64::MAX / 2,
            provider: None,
            product: None,
            limit: 10,
            offset: 0,
        })
        .await
        .unwrap();
    let event = &events[0].event;
    assert_eq!(event.event_type, "paid");
    assert_eq!(event.occurred_at.timestamp(), 1_761_901_200);
    let Detail::Sale(sale) = &event.detail else {
        panic!("{event:?}")
    };
    assert_eq!(
        sale.items[0].license_key,
        Some(LicenseKey(LICENSE_KEY.into())),
        "kept with the sale for later features"
    );
    let answers = sale.checkout_answers.as_ref().expect("answers kept");
    assert_eq!(answers.0[0]["answer"], "Reaper");
    assert_eq!(sale.coupons[0].code, "SPRING25");
    let debug = format!("{event:?}");
    assert!(
        !debug.contains(LICENSE_KEY) && !debug.contains("Reaper"),
        "{debug}"
    );
    let csv = integrations_bot::discord::views::csv_row(&events[0], false, chrono_tz::Tz::UTC);
    assert!(csv.trim_end().ends_with(",276,Ireland"), "{csv}");
    app.stop().await;
}
