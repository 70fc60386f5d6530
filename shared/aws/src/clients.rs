//! AWS SDK clients from the usual environment. `AWS_ENDPOINT_URL` points every client at a
//! local emulator; S3 is then addressed by path, as emulators expect.

use aws_config::SdkConfig;

/// The clients billwatch talks to, built once per process and cloned cheaply.
#[derive(Clone, Debug)]
pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sns: aws_sdk_sns::Client,
    /// Channels' webhook URLs and signing keys (Parameter Store, Secrets Manager).
    pub ssm: aws_sdk_ssm::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
}

impl Clients {
    /// Clients from the environment's region, credentials and endpoint.
    pub async fn from_env() -> Self {
        Self::from_sdk(&sdk_config().await)
    }

    pub fn from_sdk(config: &SdkConfig) -> Self {
        Self {
            s3: s3(config),
            dynamodb: dynamodb(config),
            sns: sns(config),
            ssm: aws_sdk_ssm::Client::new(config),
            secrets: aws_sdk_secretsmanager::Client::new(config),
        }
    }
}

pub async fn sdk_config() -> SdkConfig {
    aws_config::load_from_env().await
}

/// The S3 client's configuration builder (path-style when an endpoint is set), for callers that
/// add to it before building.
pub fn s3_config(config: &SdkConfig) -> aws_sdk_s3::config::Builder {
    let builder = aws_sdk_s3::config::Builder::from(config);
    if config.endpoint_url().is_some() {
        builder.force_path_style(true)
    } else {
        builder
    }
}

pub fn s3(config: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(s3_config(config).build())
}

pub fn dynamodb(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

pub fn sns(config: &SdkConfig) -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(config)
}
