//! The yardstick for the gzip benchmark: one gzip stream inflated with the engine's decoder
//! (flate2 on zlib-rs), on one thread, into nothing. Prints the inflated byte count.
//!
//!     cargo run --release -p billwatch-core --example inflate -- FILE.gz

use std::io::Read;

fn main() -> std::io::Result<()> {
    let path = std::env::args().nth(1).expect("usage: inflate FILE.gz");
    let file = std::fs::File::open(path)?;
    let mut decoder =
        flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 16, file));
    let mut buf = vec![0u8; 1 << 20];
    let mut total: u64 = 0;
    loop {
        let n = decoder.read(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    println!("{total}");
    Ok(())
}
