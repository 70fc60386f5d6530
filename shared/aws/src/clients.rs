//! AWS SDK clients from the usual environment. `AWS_ENDPOINT_URL` points every client at a
//! local emulator; S3 is then addressed by path, as emulators expect.

use aws_config::SdkConfig;

pub async fn sdk_config() -> SdkConfig {
    aws_config::load_from_env().await
}

pub fn s3(config: &SdkConfig) -> aws_sdk_s3::Client {
    let mut builder = aws_sdk_s3::config::Builder::from(config);
    if config.endpoint_url().is_some() {
        builder = builder.force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(builder.build())
}

pub fn dynamodb(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

pub fn sns(config: &SdkConfig) -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(config)
}
