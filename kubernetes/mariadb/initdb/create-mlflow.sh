# Creates MLflow's database and user beside icantkube's, on the first start of an empty data
# volume only: the image's entrypoint runs /docker-entrypoint-initdb.d once, while it
# initialises the data directory. Mounted without the execute bit, this file is sourced by the
# entrypoint (hence no shebang and no `set` of its own), so its helpers docker_process_sql and
# docker_sql_escape_string_literal are available. MLflow creates its tables itself. The
# password comes from the Secret `mariadb` (MLFLOW_DATABASE_PASSWORD), which MLflow's
# Deployment reads too. On a volume initialised before this script existed, run the same
# statements once by hand as root.
mlflow_password=$(docker_sql_escape_string_literal "${MLFLOW_DATABASE_PASSWORD:?MLFLOW_DATABASE_PASSWORD is not set}")
docker_process_sql --database=mysql <<SQL
CREATE DATABASE IF NOT EXISTS mlflow CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS 'mlflow'@'%' IDENTIFIED BY '${mlflow_password}';
GRANT ALL PRIVILEGES ON mlflow.* TO 'mlflow'@'%';
SQL
unset mlflow_password
