//! The `reenact` binary. The command line lives in the library ([`reenact::main`]), so that what it
//! uses stays private to the crate and the library's public API is only what users call.

fn main() -> std::process::ExitCode {
    reenact::main()
}
