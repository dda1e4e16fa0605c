fn main() {
    std::process::exit(parsim::cli::main());
}
