//! Several stores in one bot: two accounts of one provider, each verified with its own secret at
//! its own path, their events kept apart; notices routed per store and per product, and a public
//! feed that never shows the amount or the buyer.

use integrations_bot::config::{Config, Environment, ListedStore, Secret};
use integrations_bot::db::RecentQuery;
use serde_json::{json, Value};

use crate::support::discord::{FakeDiscord, Target};
use crate::support::*;

const EU_KEY: &str = "eu-account-payhip-key";
const US_KEY: &str = "us-account-payhip-key";

fn two_payhip_stores(c: &mut Config) {
    c.listed = serde_json::from_value::<Vec<ListedStore>>(json!([
        { "name": "eu", "provider": "payhip", "secretEnv": "PAYHIP_EU_KEY" },
        { "name": "us", "provider": "payhip", "secretEnv": "PAYHIP_US_KEY",
          "webhookPath": "/hooks/us-shop" }
    ]))
    .expect("stores");
}

fn their_secrets(env: &mut Environment) {
    env.secrets
        .stores
        .set("PAYHIP_EU_KEY", Some(Secret::new(EU_KEY)));
    env.secrets
        .stores
        .set("PAYHIP_US_KEY", Some(Secret::new(US_KEY)));
}

/// The Payhip sale `id` of `product` (name and key), signed with `key`.
fn sale(id: &str, product: &str, key: &str) -> Vec<u8> {
    let mut v = fixture("payhip/paid.json");
    v["id"] = Value::String(id.to_owned());
    v["items"] = json!([{ "product_id": "1", "product_name": product, "product_key": product,
                          "quantity": "1", "on_sale": false, "has_variant": false }]);
    v["signature"] = Value::String(payhip_signature(key));
    serde_json::to_vec(&v).expect("serialises")
}

async fn start(configure: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database_url(dir.path()).await;
    TestApp::start_with(dir, &url, configure, their_secrets).await
}

/// The ids of the events listed for `store` (all time), newest first.
async fn listed(app: &TestApp, store: &str) -> Vec<(String, String)> {
    let (events, _) = app
        .store()
        .recent(&RecentQuery {
            from: 0,
            to: i64::MAX,
            provider: Some(store),
            product: None,
            limit: 50,
            offset: 0,
        })
        .await
        .expect("recent");
    events
        .into_iter()
        .map(|e| (e.event.provider, e.event.external_id))
        .collect()
}

#[tokio::test]
async fn two_accounts_of_one_provider_each_take_only_their_own_signature_at_their_own_path() {
    let app = start(two_payhip_stores).await;
    let eu = sale("EU-1", "Brushes", EU_KEY);
    let us = sale("US-1", "Brushes", US_KEY);

    assert_eq!(app.post("/hooks/us-shop", eu.clone()).await.0, 401);
    assert_eq!(app.post("/webhook/eu", us.clone()).await.0, 401);
    assert_eq!(
        app.post("/webhook/payhip", eu.clone()).await.0,
        401,
        "the single-store section keeps its own key"
    );
    assert_eq!(app.post("/webhook/eu", eu).await.0, 200);
    assert_eq!(app.post("/hooks/us-shop", us).await.0, 200);
    assert_eq!(
        app.post("/webhook/payhip", payhip_sale("OLD-1")).await.0,
        200
    );
    // One sale id in two accounts is two sales, not a repeat.
    assert_eq!(
        app.post("/webhook/eu", sale("SAME-1", "Brushes", EU_KEY))
            .await
            .0,
        200
    );
    let (status, body) = app
        .post("/hooks/us-shop", sale("SAME-1", "Brushes", US_KEY))
        .await;
    assert_eq!(status, 200);
    assert!(body.contains("\"duplicate\":false"), "{body}");

    let pair = |store: &str, id: &str| (store.to_owned(), id.to_owned());
    let mut eu = listed(&app, "eu").await;
    eu.sort();
    assert_eq!(eu, [pair("eu", "EU-1"), pair("eu", "SAME-1")]);
    let mut us = listed(&app, "us").await;
    us.sort();
    assert_eq!(us, [pair("us", "SAME-1"), pair("us", "US-1")]);
    assert_eq!(listed(&app, "payhip").await, [pair("payhip", "OLD-1")]);
    app.stop().await;
}

const SHARED: u64 = 1_001;
const STAFF: u64 = 2_001;
const COURSE: u64 = 4_001;
const PUBLIC: u64 = 3_001;

#[tokio::test]
async fn a_product_has_its_own_channel_and_the_public_feed_shows_neither_amount_nor_buyer() {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database_url(dir.path()).await;
    let base = discord.base();
    let app = TestApp::start_with(
        dir,
        &url,
        |c| {
            c.discord_config.sales_channel_id = Some(SHARED);
            c.privacy.show_customer = true;
            c.listed = serde_json::from_value(json!([{
                "name": "eu", "provider": "payhip", "secretEnv": "PAYHIP_EU_KEY",
                "notify": { "newSale": [ { "channelId": STAFF.to_string() },
                                         { "channelId": PUBLIC.to_string(), "public": true } ] },
                "products": [ { "product": "Course", "notify": { "newSale": [
                    { "channelId": COURSE.to_string() },
                    { "channelId": PUBLIC.to_string(), "public": true } ] } } ]
            }]))
            .expect("stores");
        },
        |env| {
            their_secrets(env);
            env.secrets.discord_token = Some(Secret::new("fake-bot-token"));
            env.discord_api_base = Some(base);
        },
    )
    .await;
    assert_eq!(
        app.post("/webhook/eu", sale("EU-B", "Brushes", EU_KEY))
            .await
            .0,
        200
    );
    discord
        .wait_for_messages_to(&Target::Channel(PUBLIC), 1, WAIT)
        .await;
    assert_eq!(
        app.post("/webhook/eu", sale("EU-C", "Course", EU_KEY))
            .await
            .0,
        200
    );
    assert_eq!(
        app.post("/webhook/payhip", payhip_sale("OLD-1")).await.0,
        200
    );
    discord.wait_for_notices(5, WAIT).await;

    let titles = |channel: u64| -> Vec<String> {
        discord
            .notices_to(&Target::Channel(channel))
            .iter()
            .map(|m| m.body["embeds"][0]["fields"][0]["value"].to_string())
            .collect()
    };
    assert_eq!(
        titles(STAFF).len(),
        1,
        "only Brushes goes to the store's staff channel"
    );
    assert!(titles(STAFF)[0].contains("Brushes"));
    assert_eq!(
        titles(COURSE).len(),
        1,
        "the course goes to its own channel"
    );
    assert!(titles(COURSE)[0].contains("Course"));
    assert_eq!(
        titles(SHARED).len(),
        1,
        "only the single-store sale is shared"
    );
    let public = discord.notices_to(&Target::Channel(PUBLIC));
    assert_eq!(public.len(), 2);

    let staff = &discord.messages_to(&Target::Channel(STAFF))[0].body;
    let staff_text = staff.to_string();
    assert!(
        staff_text.contains("$29.99") && staff_text.contains("@example.com"),
        "the staff feed has the amount and the buyer: {staff_text}"
    );
    for message in &public {
        let text = message.body.to_string();
        assert!(
            text.contains("Brushes") || text.contains("Course"),
            "{text}"
        );
        for private in [
            "29.99",
            "2999",
            "$",
            "USD",
            "example.com",
            "bu***",
            "EU-",
            "Customer",
            "Total",
        ] {
            assert!(
                !text.contains(private),
                "{private:?} in the public feed: {text}"
            );
        }
        assert_eq!(message.body["embeds"][0]["footer"]["text"], "Payhip (eu)");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_single_store_config_is_unchanged() {
    let app = TestApp::start(|c| c.discord_config.sales_channel_id = Some(SHARED)).await;
    let names: Vec<&str> = app
        .running
        .state
        .providers()
        .iter()
        .map(|p| p.name())
        .collect();
    assert_eq!(
        names,
        [
            "payhip",
            "xsolla",
            "stripe",
            "lemonsqueezy",
            "gumroad",
            "kofi"
        ]
    );
    let config = app.running.state.config();
    let paths: Vec<String> = app
        .running
        .state
        .providers()
        .iter()
        .map(|p| p.route(&config))
        .collect();
    assert_eq!(
        paths,
        [
            "/webhook/payhip",
            "/webhook/xsolla",
            "/webhook/stripe",
            "/webhook/lemonsqueezy",
            "/webhook/gumroad",
            "/webhook/kofi"
        ]
    );
    assert_eq!(
        app.post("/webhook/payhip", payhip_sale("OLD-1")).await.0,
        200
    );
    assert_eq!(
        listed(&app, "payhip").await,
        [("payhip".to_owned(), "OLD-1".to_owned())]
    );
    let rows = app.store().outbox_rows().await.unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| r.destination.as_str())
            .collect::<Vec<_>>(),
        [format!("channel:{SHARED}")]
    );
    app.stop().await;
}

#[tokio::test]
async fn a_store_named_after_its_provider_keeps_the_sections_endpoint_and_history() {
    let app = start(|c| {
        c.listed = serde_json::from_value(json!([
            { "name": "payhip", "provider": "payhip" },
            { "name": "eu", "provider": "payhip", "secretEnv": "PAYHIP_EU_KEY" }
        ]))
        .expect("stores");
    })
    .await;
    assert_eq!(
        app.post("/webhook/payhip", payhip_sale("OLD-1")).await.0,
        200
    );
    assert_eq!(
        listed(&app, "payhip").await,
        [("payhip".to_owned(), "OLD-1".to_owned())]
    );
    assert_eq!(app.running.state.providers().len(), 7);
    app.stop().await;
}
