//! The command line. Subcommands are thin: they load settings and call into the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `println!` that gives up quietly when stdout is gone (`check-config | head`), instead of
/// panicking on the broken pipe.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// The same for stderr (`check-config 2>&-`).
macro_rules! err {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

use crate::config::{Config, ConfigError, Environment, Settings};

mod replay;
mod simulate;
use simulate::simulate;

#[derive(Debug, Parser)]
#[command(
    name = "integrations-bot",
    version,
    about = "Store webhooks (Payhip, Xsolla) to Discord notices and sales stats"
)]
pub struct Cli {
    /// Path of config.json.
    #[arg(
        long,
        global = true,
        env = "CONFIG_PATH",
        default_value = "config.json"
    )]
    pub config: PathBuf,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the bot: webhook intake, Discord delivery and commands (the default).
    Run,
    /// Check config.json and the environment; print every problem and exit non-zero if any.
    CheckConfig,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the sales report (the same figures as /stats).
    Stats {
        /// today, yesterday, week, month, last-month, year or all.
        #[arg(long, default_value = "month")]
        period: String,
        /// Start date YYYY-MM-DD (instead of --period).
        #[arg(long)]
        from: Option<String>,
        /// End date YYYY-MM-DD, included.
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        product: Option<String>,
        /// A store's name: a provider's, for its single-store section, or one of the `stores` list.
        #[arg(long)]
        provider: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Also draw the /stats chart into this PNG file.
        #[arg(long, value_name = "FILE")]
        chart: Option<PathBuf>,
    },
    /// Print the link that adds the bot to a Discord server, with the scopes and permissions it
    /// needs. The application id is read from DISCORD_TOKEN unless given.
    Invite {
        /// The application id (Developer Portal > General Information > Application ID).
        #[arg(long)]
        client_id: Option<u64>,
    },
    /// Import the history of the earlier JavaScript bot (its sales.db) once; running it again
    /// adds nothing. Imported events are counted in stats and never announced.
    ImportJs {
        /// The JavaScript bot's database file, e.g. ../old-bot/sales.db.
        path: PathBuf,
    },
    /// Verify again, with the secrets as they are now, the webhooks refused for their signature
    /// that looked like a store's event (kept apart, never counted), and take in those that now
    /// pass: each once, however often this runs. For after changing a store's key or secret.
    ReplayRejected,
    /// Send a realistic test event to the running bot's own endpoint and show the answer. The
    /// notice is posted marked TEST and never counted in stats.
    Simulate {
        /// The Payhip event type to simulate.
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(crate::providers::payhip::SAMPLE_KINDS))]
        event: String,
        /// The endpoint to post to (default: this config's webhook address on this machine).
        #[arg(long)]
        url: Option<String>,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::telemetry::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The earlier JavaScript bot kept its config in `src/config/config.json`; a seller who drops this
/// binary into that bot's folder keeps their settings without moving anything.
const JS_BOT_CONFIG: &str = "src/config/config.json";

fn config_path(given: PathBuf) -> PathBuf {
    let old = Path::new(JS_BOT_CONFIG);
    if given == Path::new("config.json") && !given.exists() && old.is_file() {
        tracing::info!("no config.json here: using the JavaScript bot's {JS_BOT_CONFIG}");
        return old.to_owned();
    }
    given
}

async fn dispatch(mut cli: Cli) -> anyhow::Result<ExitCode> {
    cli.config = config_path(cli.config);
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => {
            let settings = load_settings(&cli.config)?;
            crate::app::run(settings).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig => Ok(check_config(&cli.config).await),
        Command::Invite { client_id } => Ok(invite(&cli.config, client_id)),
        Command::ImportJs { path } => {
            let settings = load_settings(&cli.config)?;
            import_js(&settings, &path).await
        }
        Command::ReplayRejected => {
            let settings = load_settings(&cli.config)?;
            replay::replay_rejected(settings).await
        }
        Command::Simulate { event, url } => {
            let settings = load_settings(&cli.config)?;
            simulate(&settings, &event, url).await
        }
        Command::Stats {
            period,
            from,
            to,
            product,
            provider,
            json,
            chart,
        } => {
            let settings = load_settings(&cli.config)?;
            let tz = settings.config.discord_config.tz();
            let period = crate::stats::Period::resolve(
                Some(&period),
                from.as_deref(),
                to.as_deref(),
                chrono::Utc::now(),
                tz,
            )?;
            // Run from another folder, a relative SQLite path would name an empty new database
            // and the report would say "no sales": say where the bot's data was expected instead.
            if let Some(file) = crate::db::Store::sqlite_file(&settings.database_url) {
                if !file.exists() {
                    anyhow::bail!(
                        "no database at {}: run this in the bot's folder (where its data/ folder is), or pass --config or set DATABASE_URL",
                        file.display()
                    );
                }
            }
            let store = crate::db::Store::connect(&settings.database_url).await?;
            let filter = crate::stats::Filter { provider, product };
            let report = crate::stats::report(&store, &period, &filter, tz).await?;
            store.close().await;
            if json {
                out!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                out!("{}", report.to_text().trim_end());
            }
            if let Some(path) = chart {
                write_chart(&report, &path)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let settings = load_settings(&cli.config)?;
            crate::db::Store::connect(&settings.database_url)
                .await?
                .close()
                .await;
            out!(
                "migrations applied to {}",
                crate::app::redact_url(&settings.database_url)
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Notes go to stderr, so `--json` output stays pure JSON.
fn write_chart(report: &crate::stats::Report, path: &Path) -> anyhow::Result<()> {
    match crate::stats::chart::render(report)? {
        Some(png) => {
            std::fs::write(path, png)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            eprintln!("chart written to {}", path.display());
        }
        None => eprintln!(
            "no chart: no sale or refund in this period ({} not written)",
            path.display()
        ),
    }
    Ok(())
}

fn load_settings(path: &Path) -> anyhow::Result<Settings> {
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(ConfigError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!(
                "no config file at {}: copy config.json.example to config.json (or pass --config PATH)",
                path.display()
            )
        }
        Err(e) => anyhow::bail!("{e}\nrun `integrations-bot check-config` after fixing it"),
    };
    let mut env = Environment::load(path);
    env.read_listed_secrets(&config, |k| std::env::var(k).ok());
    Ok(Settings::resolve(config, env, Some(path.to_owned())))
}

async fn import_js(settings: &Settings, path: &Path) -> anyhow::Result<ExitCode> {
    if !path.is_file() {
        anyhow::bail!(
            "no file at {}: pass the JavaScript bot's sales.db",
            path.display()
        );
    }
    let store = crate::db::Store::connect(&settings.database_url).await?;
    let result = crate::import_js::import(path, &store).await;
    store.close().await;
    let report = result?;
    out!(
        "imported {} event(s) from {}; {} were already here",
        report.new,
        path.display(),
        report.already_there
    );
    if report.assumed_usd > 0 {
        out!(
            "  {} sale(s) had no currency in the old database and were imported as USD",
            report.assumed_usd
        );
    }
    out!("  amounts were stored as decimals by the old bot and are rounded to the cent");
    for skipped in &report.skipped {
        out!("  skipped {skipped}");
    }
    Ok(ExitCode::SUCCESS)
}

fn invite(path: &Path, client_id: Option<u64>) -> ExitCode {
    use crate::discord::invite;
    let from_token = || {
        let env = Environment::load(path);
        env.secrets
            .discord_token
            .as_ref()
            .and_then(|t| invite::client_id_from_token(t.expose()))
    };
    match client_id.or_else(from_token) {
        Some(id) => {
            out!("Open this link, pick your server and press Authorize:");
            // With roles set up, the bot also needs Manage Roles.
            let roles = crate::config::Config::load(path).is_ok_and(|c| c.roles.enabled());
            out!("{}", invite::invite_url_for(id, roles));
            ExitCode::SUCCESS
        }
        None => {
            eprintln!(
                "cannot tell the application id: set DISCORD_TOKEN (environment or .env) or pass --client-id <Application ID from the Discord Developer Portal>"
            );
            ExitCode::FAILURE
        }
    }
}

async fn check_config(path: &Path) -> ExitCode {
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(ConfigError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            err!(
                "no config file at {}: copy config.json.example to config.json (or pass --config PATH)",
                path.display()
            );
            return ExitCode::FAILURE;
        }
        Err(ConfigError::Invalid(problems)) => {
            err!("{}: {} problem(s)", path.display(), problems.len());
            for p in problems {
                err!("  {p}");
            }
            return ExitCode::FAILURE;
        }
        Err(e) => {
            err!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let mut env = Environment::load(path);
    env.read_listed_secrets(&config, |k| std::env::var(k).ok());
    let settings = Settings::resolve(config, env, Some(path.to_owned()));
    let report = crate::check::check(&settings).await;
    // A file that loads gets its whole report on stdout, in one ordered stream; the exit code
    // says whether anything must be fixed. A file that does not load is refused on stderr, as
    // `run` refuses it.
    if report.problems.is_empty() {
        out!("{}: OK", path.display());
    } else {
        out!("{}: {} problem(s)", path.display(), report.problems.len());
        for p in &report.problems {
            out!("  {p}");
        }
    }
    for w in &report.warnings {
        out!("  warning: {w}");
    }
    for line in &report.summary {
        out!("  {line}");
    }
    if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
