/// Run by the loader before `main` and before any shared library's own
/// initialisers (MPI's, HDF5's): stop signals from here on are recorded
/// instead of killing the process (see `parsim::stop::record_early_stops`).
#[used]
#[link_section = ".preinit_array"]
static EARLY_STOPS: extern "C" fn() = parsim::stop::record_early_stops;

fn main() {
    std::process::exit(parsim::cli::main());
}
