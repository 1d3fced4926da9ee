-- CloudTrail table for an organization trail:
--   s3://<bucket>/<prefix>AWSLogs/<o-orgid>/<account>/CloudTrail/<region>/<yyyy>/<MM>/<dd>/*.json.gz
--
-- Template: `npm run athena:setup` fills the {{placeholders}} from the ATHENA_* and TRAIL_*
-- variables (see athena/README.md) and runs it; `npm run athena:setup -- --print` only prints it.
-- {{columns}} is derived from the CloudTrail record model (src/domain/record-model.ts), shared
-- with the single-account template; {{location}} and {{locationTemplate}} come from the S3 layout
-- (src/trail/layout.ts). Lines starting with `--` are removed before the statement is sent.
--
-- Partition projection computes partitions from the table properties, so there is nothing to
-- load or repair: a query filtering on `timestamp`, `region` and `account` reads only those
-- day folders. Regions not listed here are not visible through the table. {{accountProjection}}
-- is either an `enum` projection listing the accounts (those not listed are not visible) or, with
-- TRAIL_ACCOUNT_PROJECTION=injected, an `injected` one: no list, and every query must name its
-- accounts (see athena/README.md, "Enum projections at scale").
CREATE EXTERNAL TABLE IF NOT EXISTS `{{database}}`.`{{table}}` (
{{columns}}
)
PARTITIONED BY (
  `account` STRING,
  `region` STRING,
  `timestamp` STRING
)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION '{{location}}'
TBLPROPERTIES (
  'projection.enabled' = 'true',
{{accountProjection}}
  'projection.region.type' = 'enum',
  'projection.region.values' = '{{regions}}',
  'projection.timestamp.type' = 'date',
  'projection.timestamp.format' = 'yyyy/MM/dd',
  'projection.timestamp.range' = '{{startDate}},NOW',
  'projection.timestamp.interval' = '1',
  'projection.timestamp.interval.unit' = 'DAYS',
  'storage.location.template' = '{{locationTemplate}}'
)
