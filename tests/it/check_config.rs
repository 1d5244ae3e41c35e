//! `check-config` on each mistake a seller makes, run as they run it: the exit code and the one
//! line that names the problem.

use std::path::Path;
use std::process::Command;

use crate::support::postgres_server;

/// Every channel set, so that only the mistake under test is reported.
const CHANNELS: &str =
    r#""salesChannelId": "111", "refundsChannelId": "222", "subscriptionsChannelId": "333""#;

struct Checked {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// Runs `check-config` in a fresh folder holding `config`, with only the variables in `env`.
fn check(config: &str, env: &[(&str, &str)]) -> Checked {
    let dir = tempfile::tempdir().unwrap();
    check_in(dir.path(), config, env)
}

fn check_in(dir: &Path, config: &str, env: &[(&str, &str)]) -> Checked {
    std::fs::write(dir.join("config.json"), config).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_integrations-bot"));
    for name in [
        "DISCORD_TOKEN",
        "BOT_TOKEN",
        "PAYHIP_API_KEY",
        "XSOLLA_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "LEMONSQUEEZY_SIGNING_SECRET",
        "GUMROAD_WEBHOOK_TOKEN",
        "KOFI_VERIFICATION_TOKEN",
        "DATABASE_URL",
        "DISCORD_API_BASE",
        "CONFIG_PATH",
    ] {
        command.env_remove(name);
    }
    let out = command
        .current_dir(dir)
        .envs(env.iter().copied())
        .arg("check-config")
        .output()
        .unwrap();
    Checked {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const KEY: [(&str, &str); 1] = [("PAYHIP_API_KEY", "k")];

/// Fails unless the run failed with exactly `problem` as its one problem. A file that loads is
/// reported on stdout; one that does not, on stderr.
fn assert_one_problem(c: &Checked, problem: &str) {
    assert!(!c.ok, "exit code 0 for:\n{}{}", c.stdout, c.stderr);
    let said = format!("{}{}", c.stdout, c.stderr);
    assert!(said.contains("config.json: 1 problem(s)\n"), "{said}");
    assert!(
        said.contains(&format!("  {problem}\n")),
        "expected {problem:?} in:\n{said}"
    );
}

#[test]
fn a_sound_setup_is_ok() {
    let c = check(&format!(r#"{{ "discordConfig": {{ {CHANNELS} }} }}"#), &KEY);
    assert!(c.ok, "{}{}", c.stdout, c.stderr);
    assert!(c.stdout.starts_with("config.json: OK\n"), "{}", c.stdout);
    assert!(c.stdout.contains("  refund notices: channel 222\n"));
    assert!(c.stdout.contains("  PAYHIP_API_KEY: set\n"));
}

#[test]
fn alerts_are_said_where_they_go_and_a_silence_of_zero_is_refused() {
    let c = check(
        &format!(
            r#"{{ "discordConfig": {{ {CHANNELS}, "alertsChannelId": "999", "alertAfterSilentMinutes": 1440 }},
                 "webhookConfig": {{ "rejectedBodiesKept": 50, "rejectedBytesKept": 100000 }} }}"#
        ),
        &KEY,
    );
    assert!(c.ok, "{}{}", c.stdout, c.stderr);
    assert!(
        c.stdout.contains(
            "  alerts: channel 999
"
        ),
        "{}",
        c.stdout
    );
    let c = check(
        &format!(r#"{{ "discordConfig": {{ {CHANNELS}, "alertAfterSilentMinutes": 0 }} }}"#),
        &KEY,
    );
    assert_one_problem(
        &c,
        "discordConfig.alertAfterSilentMinutes: expected a number of minutes of at least 1, or no key for no silence alert",
    );
}

#[test]
fn a_misspelt_key_is_named_with_the_key_it_should_be() {
    let c = check(
        r#"{ "discordConfig": { "salesChanelId": "111", "refundsChannelId": "222", "subscriptionsChannelId": "333" } }"#,
        &KEY,
    );
    assert_one_problem(
        &c,
        "discordConfig.salesChanelId: unknown key; did you mean salesChannelId?",
    );
}

#[test]
fn a_misspelt_event_type_fails_instead_of_posting_what_the_seller_hid() {
    let c = check(
        &format!(
            r#"{{ "discordConfig": {{ {CHANNELS} }}, "payhipConfig": {{ "eventTypes": {{ "refunds": false }} }} }}"#
        ),
        &KEY,
    );
    assert_one_problem(
        &c,
        "payhipConfig.eventTypes.refunds: unknown key; did you mean refund?",
    );
}

#[test]
fn keys_of_the_javascript_bot_are_warnings_not_problems() {
    let c = check(
        &format!(
            r#"{{ "discordConfig": {{ "botActivity": "Payhip Sales", {CHANNELS} }},
                 "databaseConfig": {{ "maxSales": 200 }},
                 "webhookConfig": {{ "webhookPort": 3000, "webhookPath": "/payhip", "webhookURL": "" }} }}"#
        ),
        &KEY,
    );
    assert!(c.ok, "{}{}", c.stdout, c.stderr);
    assert!(
        c.stdout.contains(
            "  warning: databaseConfig.maxSales is ignored: every event is kept so stats stay correct\n"
        ),
        "{}",
        c.stdout
    );
}

#[test]
fn no_store_secret_at_all_is_a_problem() {
    let c = check(&format!(r#"{{ "discordConfig": {{ {CHANNELS} }} }}"#), &[]);
    assert_one_problem(
        &c,
        "PAYHIP_API_KEY / XSOLLA_SECRET_KEY: not set, so every webhook is refused (503): set the one for your store in the environment or in .env beside config.json (Payhip: Settings > Developer; Xsolla: Project settings > Webhooks > Secret key)",
    );
    // One store's secret is enough: the other store is simply not set up.
    let xsolla_only = check(
        &format!(r#"{{ "discordConfig": {{ {CHANNELS} }} }}"#),
        &[("XSOLLA_SECRET_KEY", "s")],
    );
    assert!(xsolla_only.ok, "{}", xsolla_only.stderr);
}

#[test]
fn a_notice_switched_on_with_no_channel_and_no_webhook_url_is_a_problem() {
    let c = check(
        r#"{ "discordConfig": { "salesChannelId": "111", "refundsChannelId": "" },
             "payhipConfig": { "eventTypes": { "subscriptions": false } } }"#,
        &KEY,
    );
    assert_one_problem(
        &c,
        "discordConfig.refundsChannelId: not set and notifications.refund.webhookUrls is empty, so refunds are never announced although payhipConfig.eventTypes.refund is on: set a channel id or a webhook URL, or set that switch to false",
    );
}

#[test]
fn a_stripe_only_seller_hears_of_a_notice_with_nowhere_to_go() {
    let c = check(
        r#"{ "discordConfig": { "salesChannelId": "111" },
             "stripeConfig": { "eventTypes": { "subscriptions": false } } }"#,
        &[("STRIPE_WEBHOOK_SECRET", "whsec_test")],
    );
    assert_one_problem(
        &c,
        "discordConfig.refundsChannelId: not set and notifications.refund.webhookUrls is empty, so refunds are never announced although stripeConfig.eventTypes.refund is on: set a channel id or a webhook URL, or set that switch to false",
    );
}

#[test]
fn a_wrong_type_is_said_in_plain_words_with_the_value_seen() {
    let c = check(
        &format!(
            r#"{{ "discordConfig": {{ {CHANNELS} }}, "webhookConfig": {{ "webhookPort": "abc" }} }}"#
        ),
        &KEY,
    );
    assert_one_problem(
        &c,
        "webhookConfig.webhookPort: expected a whole number from 0 to 65535, found \"abc\"",
    );
}

#[test]
fn an_unreachable_database_is_one_problem_without_its_password() {
    let c = check(
        &format!(r#"{{ "discordConfig": {{ {CHANNELS} }} }}"#),
        &[
            KEY[0],
            ("DATABASE_URL", "postgres://bot:hunter2@127.0.0.1:1/sales"),
        ],
    );
    assert_one_problem(
        &c,
        "database: cannot connect to postgres://***@127.0.0.1:1/sales: 127.0.0.1:1: connection refused (is PostgreSQL running there, on that port?)",
    );
    assert!(!c.stderr.contains("hunter2") && !c.stdout.contains("hunter2"));
    assert_eq!(
        c.stdout.matches("127.0.0.1:1").count(),
        2,
        "said once: {}",
        c.stdout
    );
}

#[test]
fn a_missing_sqlite_database_is_fine_and_check_config_does_not_create_it() {
    let dir = tempfile::tempdir().unwrap();
    let c = check_in(
        dir.path(),
        &format!(r#"{{ "discordConfig": {{ {CHANNELS} }} }}"#),
        &KEY,
    );
    assert!(c.ok, "{}", c.stderr);
    assert!(
        c.stdout
            .contains("  database: sqlite://data/sales.db (created at the first start: "),
        "{}",
        c.stdout
    );
    assert!(!dir.path().join("data").exists(), "nothing created");
}

#[test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL=postgres://… and pass --include-ignored"]
fn a_missing_postgres_database_is_named_once() {
    let server = postgres_server().expect("TEST_DATABASE_URL must name a PostgreSQL server");
    let (base, _) = server.rsplit_once('/').expect("a URL with a database name");
    let url = format!("{base}/integrations_bot_surely_missing");
    let c = check(
        &format!(r#"{{ "discordConfig": {{ {CHANNELS} }} }}"#),
        &[KEY[0], ("DATABASE_URL", url.as_str())],
    );
    assert!(!c.ok);
    let said = "database \"integrations_bot_surely_missing\" does not exist";
    assert_eq!(c.stdout.matches(said).count(), 1, "{}", c.stdout);
    assert!(c.stdout.contains("  database: cannot connect to postgres"));
}

#[test]
fn every_problem_of_a_broken_file_is_listed_at_once() {
    let c = check(
        r#"{ "embedColors": { "newSale": "green" },
             "webhookConfig": { "webhookPort": -1, "bindAddress": "localhost" },
             "discordConfig": { "salesChanelId": "1" } }"#,
        &KEY,
    );
    assert!(!c.ok);
    for line in [
        "config.json: 4 problem(s)",
        "  webhookConfig.webhookPort: expected a whole number from 0 to 65535, found -1",
        "  webhookConfig.bindAddress: expected an IP address like \"0.0.0.0\" or \"127.0.0.1\", found \"localhost\"",
        "  embedColors.newSale: expected a hex color like \"#00FF00\", found \"green\"",
        "  discordConfig.salesChanelId: unknown key; did you mean salesChannelId?",
    ] {
        assert!(c.stderr.contains(line), "{line:?} in:\n{}", c.stderr);
    }
}

#[test]
fn the_example_config_needs_only_channel_ids_and_a_key() {
    let example =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config.json.example"))
            .unwrap();
    let bare = check(&example, &KEY);
    assert!(!bare.ok);
    assert!(
        bare.stdout.contains("config.json: 3 problem(s)"),
        "the three channels: {}",
        bare.stdout
    );
    let filled = example
        .replace(r#""salesChannelId": """#, r#""salesChannelId": "111""#)
        .replace(r#""refundsChannelId": """#, r#""refundsChannelId": "222""#)
        .replace(
            r#""subscriptionsChannelId": """#,
            r#""subscriptionsChannelId": "333""#,
        );
    let c = check(&filled, &KEY);
    assert!(c.ok, "{}{}", c.stdout, c.stderr);
}

#[test]
fn roles_need_the_server_id_and_real_role_ids() {
    let roles = r#""roles": { "products": [{ "product": "AbC12", "roles": ["12x"] }] }"#;
    let c = check(
        &format!(r#"{{ "discordConfig": {{ {CHANNELS} }}, {roles} }}"#),
        &KEY,
    );
    let said = format!("{}{}", c.stdout, c.stderr);
    assert!(!c.ok, "{said}");
    assert!(
        said.contains("roles.products[0].roles: expected a Discord role id (digits, as a string), found \"12x\""),
        "{said}"
    );
    let roles = r#""roles": { "products": [{ "product": "AbC12", "roles": ["12"] }] }"#;
    let c = check(
        &format!(r#"{{ "discordConfig": {{ {CHANNELS} }}, {roles} }}"#),
        &KEY,
    );
    assert_one_problem(
        &c,
        "discordConfig.guildId: roles are given in one server: set the server's id here",
    );
    let c = check(
        &format!(r#"{{ "discordConfig": {{ "guildId": "9", {CHANNELS} }}, {roles} }}"#),
        &KEY,
    );
    assert!(c.ok, "{}{}", c.stdout, c.stderr);
    assert!(
        c.stdout.contains("PAYHIP_PRODUCT_SECRET_ABC12"),
        "{}",
        c.stdout
    );
    assert!(c.stdout.contains("roles: 1 product(s)"), "{}", c.stdout);
}

#[test]
fn a_listed_store_without_its_secret_is_named() {
    let config = format!(
        r#"{{ "discordConfig": {{ {CHANNELS} }},
             "stores": [ {{ "name": "eu", "provider": "payhip", "secretEnv": "PAYHIP_EU_KEY",
                            "notify": {{ "newSale": [ {{ "channelId": "444" }}, {{ "channelId": "555", "public": true }} ] }} }},
                         {{ "name": "us", "provider": "payhip", "secretEnv": "PAYHIP_US_KEY" }} ] }}"#
    );
    let c = check(&config, &[("PAYHIP_API_KEY", "k"), ("PAYHIP_US_KEY", "u")]);
    assert_one_problem(
        &c,
        "stores[0].secretEnv: PAYHIP_EU_KEY is not set, so store \"eu\" refuses every webhook (503): set it in the environment or in .env beside config.json (Payhip: Settings > Developer)",
    );
    assert!(
        c.stdout.contains("  PAYHIP_US_KEY (store us): set\n"),
        "{}",
        c.stdout
    );
    let both = check(&config, &[("PAYHIP_EU_KEY", "e"), ("PAYHIP_US_KEY", "u")]);
    assert!(both.ok, "{}{}", both.stdout, both.stderr);
    assert!(
        both.stdout
            .contains("  eu newSale notices: channel 444, channel 555 (public feed)\n"),
        "{}",
        both.stdout
    );
}

#[test]
fn digests_are_named_with_their_time_zone_and_bad_times_are_refused() {
    let digests = r#""digests": [{ "every": "day", "channelId": "77", "at": "08:30" },
                                 { "every": "week", "channelId": "77", "weekday": "friday" }]"#;
    let c = check(
        &format!(
            r#"{{ "discordConfig": {{ "timezone": "Europe/Paris", {CHANNELS} }}, {digests} }}"#
        ),
        &KEY,
    );
    assert!(c.ok, "{}{}", c.stdout, c.stderr);
    assert!(
        c.stdout.contains("digests: daily at 08:30 in channel 77; weekly on Friday at 09:00 in channel 77 (Europe/Paris, discordConfig.timezone)"),
        "{}",
        c.stdout
    );
    let bad = r#""digests": [{ "every": "day", "channelId": "77", "at": "8.30pm" }]"#;
    let c = check(
        &format!(r#"{{ "discordConfig": {{ {CHANNELS} }}, {bad} }}"#),
        &KEY,
    );
    assert_one_problem(
        &c,
        "digests[0].at: expected a 24-hour time like \"09:00\", found \"8.30pm\"",
    );
}
