# The MLflow tracking server icantkube logs training runs to, with what the cluster's stores
# need and upstream's image lacks: PyMySQL for the MariaDB backend store, boto3 for the
# S3-compatible artifact store (MinIO). MLflow is pinned to the version the tests run against
# (scripts/mlflow-venv.sh), so what CI proves is what the cluster runs.
#
#   buildah bud -f mlflow.Dockerfile -t mlflow .
ARG BASE=docker.io/library/python:3.11-slim-bookworm
FROM ${BASE}
RUN python -m pip install --no-cache-dir --disable-pip-version-check \
      mlflow==3.17.2 pymysql==1.2.4 cryptography==50.0.2 boto3==1.44.8 \
 && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin mlflow
USER 10001:10001
EXPOSE 5000
ENTRYPOINT ["mlflow", "server"]
CMD ["--host", "0.0.0.0", "--port", "5000"]
