//! Detailed billing reports name services only by `ProductName`; the other formats key them by
//! product code. This maps the names seen in DBRs (old and new spellings) to their codes.

const NAMES: &[(&str, &str)] = &[
    ("Amazon API Gateway", "AmazonApiGateway"),
    ("Amazon AppStream", "AmazonAppStream"),
    ("Amazon Athena", "AmazonAthena"),
    ("Amazon CloudFront", "AmazonCloudFront"),
    ("Amazon CloudSearch", "AmazonCloudSearch"),
    ("Amazon CloudWatch", "AmazonCloudWatch"),
    ("Amazon Cognito", "AmazonCognito"),
    ("Amazon DynamoDB", "AmazonDynamoDB"),
    ("Amazon EC2 Container Registry (ECR)", "AmazonECR"),
    ("Amazon EC2 Container Service", "AmazonECS"),
    ("Amazon ElastiCache", "AmazonElastiCache"),
    ("Amazon Elastic Compute Cloud", "AmazonEC2"),
    ("Amazon Elastic File System", "AmazonEFS"),
    ("Amazon Elastic MapReduce", "ElasticMapReduce"),
    ("Amazon Elastic Transcoder", "AmazonETS"),
    ("Amazon Elasticsearch Service", "AmazonES"),
    ("Amazon Glacier", "AmazonGlacier"),
    ("Amazon Kinesis", "AmazonKinesis"),
    ("Amazon Kinesis Firehose", "AmazonKinesisFirehose"),
    ("Amazon Lightsail", "AmazonLightsail"),
    ("Amazon Machine Learning", "AmazonML"),
    ("Amazon RDS Service", "AmazonRDS"),
    ("Amazon Redshift", "AmazonRedshift"),
    ("Amazon Relational Database Service", "AmazonRDS"),
    ("Amazon Route 53", "AmazonRoute53"),
    ("Amazon Simple Email Service", "AmazonSES"),
    ("Amazon Simple Notification Service", "AmazonSNS"),
    ("Amazon Simple Queue Service", "AWSQueueService"),
    ("Amazon Simple Storage Service", "AmazonS3"),
    ("Amazon Simple Workflow Service", "AmazonSWF"),
    ("Amazon SimpleDB", "AmazonSimpleDB"),
    ("Amazon Virtual Private Cloud", "AmazonVPC"),
    ("Amazon WorkDocs", "AmazonWorkDocs"),
    ("Amazon WorkMail", "AmazonWorkMail"),
    ("Amazon WorkSpaces", "AmazonWorkSpaces"),
    ("AWS CloudTrail", "AWSCloudTrail"),
    ("AWS CodeCommit", "AWSCodeCommit"),
    ("AWS CodeDeploy", "AWSCodeDeploy"),
    ("AWS CodePipeline", "AWSCodePipeline"),
    ("AWS Config", "AWSConfig"),
    ("AWS Data Pipeline", "datapipeline"),
    ("AWS Data Transfer", "AWSDataTransfer"),
    ("AWS Database Migration Service", "AWSDatabaseMigrationSvc"),
    ("AWS Direct Connect", "AWSDirectConnect"),
    ("AWS Directory Service", "AWSDirectoryService"),
    ("AWS Glue", "AWSGlue"),
    ("AWS IoT", "AWSIoT"),
    ("AWS Key Management Service", "awskms"),
    ("AWS Lambda", "AWSLambda"),
    ("AWS Secrets Manager", "AWSSecretsManager"),
    ("AWS Storage Gateway", "AWSStorageGateway"),
    ("AWS Support (Basic)", "AWSSupportBasic"),
    ("AWS Support (Business)", "AWSSupportBusiness"),
    ("AWS Support (Developer)", "AWSSupportDeveloper"),
    ("AWS Support (Enterprise)", "AWSSupportEnterprise"),
    ("AWS WAF", "awswaf"),
];

/// The product code for a DBR `ProductName`; an unknown name is kept as it is.
pub fn code_for(product_name: &str) -> String {
    NAMES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(product_name.trim()))
        .map(|(_, code)| (*code).to_string())
        .unwrap_or_else(|| product_name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_map_to_codes_and_unknown_names_stay() {
        assert_eq!(code_for("Amazon Elastic Compute Cloud"), "AmazonEC2");
        assert_eq!(code_for("Amazon RDS Service"), "AmazonRDS");
        assert_eq!(code_for("Amazon Relational Database Service"), "AmazonRDS");
        assert_eq!(code_for("Amazon Simple Queue Service"), "AWSQueueService");
        assert_eq!(
            code_for("Amazon Imaginary Service"),
            "Amazon Imaginary Service"
        );
    }

    #[test]
    fn the_table_has_no_duplicate_names() {
        let mut names: Vec<_> = NAMES.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }
}
