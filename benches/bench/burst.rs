//! A launch: sales arriving faster than Discord lets a bot post in one channel (about five
//! messages per five seconds), against a double that enforces that limit with real 429 answers
//! and `X-RateLimit-*` headers. How long until every sale is visible, each once, in order.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::discord::FakeDiscord;
use crate::{load, outside};

/// Discord's per-channel allowance the double enforces.
const PER_WINDOW: u32 = 5;
const WINDOW: Duration = Duration::from_secs(5);

/// Sends `requests` (signed sales, ids in order) evenly over `seconds` to a fresh bot whose
/// channel is rate limited; prints when the last sale became visible.
pub async fn launch(requests: Arc<Vec<Vec<u8>>>, ids: Vec<String>, seconds: f64) {
    let discord = FakeDiscord::start().await;
    discord.enforce_rate_limit(PER_WINDOW, WINDOW);
    let bot = outside::Bot::start(&discord.base(), Some(42));
    let n = requests.len();
    let started = Instant::now();
    // One connection: the sales arrive in the order they were made.
    let outcome = load::paced(bot.addr, requests, n as f64 / seconds, 1).await;
    let sent = started.elapsed();
    let visible = discord
        .wait_until(Duration::from_secs(900), |d| d.sale_ids().len() >= n)
        .await
        .map(|()| started.elapsed());
    let shown = discord.sale_ids();
    let messages = discord.messages().len();
    let limited = discord
        .requests()
        .iter()
        .filter(|r| r.status == 429)
        .count();
    bot.stop();
    let once =
        shown.len() == n && shown.iter().collect::<std::collections::HashSet<_>>().len() == n;
    let in_order = shown == ids;
    let one_per_sale = n as f64 * WINDOW.as_secs_f64() / f64::from(PER_WINDOW);
    match visible {
        Some(took) => println!(
            "launch burst: {n} sales in {:.0} s ({} answered 200) to a channel limited to \
             {PER_WINDOW} messages per {} s: every sale visible {:.1} s after the first was sent, \
             in {messages} messages ({limited} answered 429); each exactly once: {once}, in order: \
             {in_order}. At one message per sale the same channel needs at least {:.0} s.",
            sent.as_secs_f64(),
            outcome.ok,
            WINDOW.as_secs(),
            took.as_secs_f64(),
            one_per_sale,
        ),
        None => println!(
            "launch burst: NOT every sale visible within 15 minutes ({} of {n})",
            shown.len()
        ),
    }
}
