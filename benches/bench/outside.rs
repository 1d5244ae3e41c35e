//! The built binary run as a seller runs it: its own process, its own SQLite file, a config file,
//! secrets in the environment, and Discord pointed at the bench's double.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

pub struct Bot {
    child: Child,
    pub addr: SocketAddr,
    pub database_url: String,
    _dir: tempfile::TempDir,
}

impl Bot {
    /// Starts the bot and waits for it to say where it listens. With `channel`, every sale is
    /// announced there.
    pub fn start(discord_base: &str, channel: Option<u64>) -> Bot {
        let dir = tempfile::tempdir().expect("temporary folder");
        let discord = channel.map_or_else(String::new, |c| {
            format!(r#", "discordConfig": {{ "salesChannelId": "{c}" }}"#)
        });
        std::fs::write(
            dir.path().join("config.json"),
            format!(
                r#"{{ "webhookConfig": {{ "webhookPort": 0, "bindAddress": "127.0.0.1" }}{discord} }}"#
            ),
        )
        .expect("config written");
        let database_url = format!("sqlite://{}", dir.path().join("bot.db").display());
        // BOT_BINARY measures another build (an earlier commit, say) with the same load.
        let binary = std::env::var("BOT_BINARY")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_integrations-bot").to_owned());
        let mut child = Command::new(binary)
            .arg("--config")
            .arg(dir.path().join("config.json"))
            .arg("run")
            .env_remove("RUST_LOG")
            .env("PAYHIP_API_KEY", crate::KEY)
            .env("DATABASE_URL", &database_url)
            .env("DISCORD_TOKEN", "bench-token")
            .env("DISCORD_API_BASE", discord_base)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the bot starts");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("the bot said where it listens before exiting")
                .expect("log line");
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.trim().parse().expect("an address");
            }
        };
        // Keep reading so the bot never blocks on a full pipe.
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        Bot {
            child,
            addr,
            database_url,
            _dir: dir,
        }
    }

    /// The bot's peak resident memory so far.
    pub fn peak_rss_kib(&self) -> u64 {
        crate::status_kib(&format!("/proc/{}/status", self.child.id()), "VmHWM:")
    }

    /// SIGTERM, then waits for the orderly exit.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}
