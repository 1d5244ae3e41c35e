//! The binary's own commands, as a seller types them.

use std::process::Command;

#[test]
fn invite_prints_the_link_with_the_scopes_and_permissions_the_bot_needs() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_integrations-bot"))
        .current_dir(dir.path())
        // base64 of "112233445566778899" before the first dot, as in a real token.
        .env(
            "DISCORD_TOKEN",
            "MTEyMjMzNDQ1NTY2Nzc4ODk5.GAbCdE.not-a-real-secret",
        )
        .arg("invite")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("https://discord.com/oauth2/authorize?client_id=112233445566778899&scope=bot%20applications.commands&permissions=117760"),
        "{text}"
    );
    assert!(
        !text.contains("not-a-real-secret"),
        "the token is never printed"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_integrations-bot"))
        .current_dir(dir.path())
        .env_remove("DISCORD_TOKEN")
        .env_remove("BOT_TOKEN")
        .arg("invite")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--client-id"));
}

#[test]
fn check_config_into_a_closed_pipe_does_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), "{}").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_integrations-bot"))
        .current_dir(dir.path())
        .arg("check-config")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader went away, as `| head -0` would
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}
