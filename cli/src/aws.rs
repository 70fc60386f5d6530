//! SDK clients from the usual AWS environment (`AWS_ENDPOINT_URL` points them at an emulator).

pub async fn s3_client() -> aws_sdk_s3::Client {
    let config = aws_config::load_from_env().await;
    let mut builder = aws_sdk_s3::config::Builder::from(&config);
    if config.endpoint_url().is_some() {
        // Emulators and custom endpoints are addressed by path, not by bucket host name.
        builder = builder.force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(builder.build())
}
