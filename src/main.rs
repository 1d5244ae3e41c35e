use std::process::ExitCode;

fn main() -> ExitCode {
    integrations_bot::cli::main()
}
