//! The `reenact` binary: parse arguments, dispatch to a subcommand, render errors, exit.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init_logging(args.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: failed to start the async runtime: {err}");
            return ExitCode::from(reenact::exit_codes::INTERNAL as u8);
        }
    };
    let signals = args.wants_signal_handlers();
    let code = runtime.block_on(async {
        if signals {
            cli::install_signal_handlers();
        }
        cli::dispatch(args).await
    });
    ExitCode::from(code as u8)
}
