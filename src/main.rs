//! The `burnish` command line: a thin layer over the library crates.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` option (`mi_option_purge_delay` in `mimalloc.h`).
#[cfg(feature = "mimalloc")]
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // Freed memory stays with the process for reuse, as onnxruntime's arena keeps it. Returned
    // to the OS, the large tensors of every inference faulted in fresh zeroed pages: ~150 page
    // faults per run of a 416x416 YOLOX detector, up to 10% of its run time in the kernel.
    #[cfg(feature = "mimalloc")]
    // SAFETY: sets one option; mimalloc reads it at each purge decision.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1)
    };
    let cli = cli::Cli::parse();
    if let Some(bytes) = cli.max_memory {
        burnish_model::limits::set_max_tensor_bytes(bytes);
    }
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", commands::one_line(&err));
            ExitCode::from(2)
        }
    }
}
