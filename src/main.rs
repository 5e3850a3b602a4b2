//! The `reenact` binary: parse arguments, dispatch to a subcommand, render errors, exit.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init_logging(args.verbose);
    let out = cli::Output::new(args.color);
    let ended = cli::runtime().and_then(|runtime| runtime.block_on(cli::dispatch(args, &out)));
    let code = match ended {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => {
            out.error(&err);
            err.exit_code()
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(u8::MAX))
}
