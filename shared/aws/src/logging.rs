//! Tracing for the functions: JSON lines when Lambda's log format is JSON (as the template sets
//! it), plain text otherwise; the level from `RUST_LOG` (default `info`).

pub fn init() {
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_target(false)
        .without_time();
    if json {
        subscriber.json().init();
    } else {
        subscriber.init();
    }
}
