# A throwaway MariaDB server for tests and benchmarks: Debian's mariadb-server, its data in a
# temporary folder, listening on a free loopback port. Source it, then:
#   mariadb_start       sets MARIADB_URL (mysql://icantkube:PASSWORD@127.0.0.1:PORT?ssl-mode=required:
#                       clients must use TLS, with a certificate made for the run) and
#                       MARIADB_PASSWORD; the user may create databases
#   mariadb_stop        stops it and removes its folder
# Needs root (mariadbd runs as root here) and installs mariadb-server when missing.

mariadb_install() {
  command -v mariadbd >/dev/null && return 0
  [ -x /usr/sbin/mariadbd ] && return 0
  echo "[mariadb] installing mariadb-server (Debian)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    mariadb-server mariadb-client >/dev/null
  # The package starts a system service; the tests run their own server.
  service mariadb stop >/dev/null 2>&1 || true
}

mariadb_start() {
  mariadb_install
  MARIADB_DIR=$(mktemp -d /tmp/icantkube-mariadb.XXXXXX)
  MARIADB_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  MARIADB_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  mariadb-install-db --user=root --datadir="$MARIADB_DIR/data" --auth-root-authentication-method=socket \
    --skip-test-db >"$MARIADB_DIR/install.log" 2>&1 ||
    { cat "$MARIADB_DIR/install.log"; return 1; }
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -keyout "$MARIADB_DIR/key.pem" -out "$MARIADB_DIR/cert.pem" >/dev/null 2>&1
  # Model files are single values: the packet limit must hold the largest.
  /usr/sbin/mariadbd --no-defaults --user=root --datadir="$MARIADB_DIR/data" \
    --socket="$MARIADB_DIR/mariadb.sock" --pid-file="$MARIADB_DIR/mariadb.pid" \
    --bind-address=127.0.0.1 --port="$MARIADB_PORT" --skip-name-resolve \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_nopad_bin \
    --max-allowed-packet=1G --max-connections=500 --innodb-buffer-pool-size=256M \
    --innodb-flush-log-at-trx-commit=1 --log-error="$MARIADB_DIR/error.log" \
    --ssl-cert="$MARIADB_DIR/cert.pem" --ssl-key="$MARIADB_DIR/key.pem" &
  MARIADB_PID=$!
  for _ in $(seq 1 120); do
    if mariadb --socket="$MARIADB_DIR/mariadb.sock" -uroot -e 'SELECT 1' >/dev/null 2>&1; then
      break
    fi
    if ! kill -0 "$MARIADB_PID" 2>/dev/null; then
      cat "$MARIADB_DIR/error.log"
      return 1
    fi
    sleep 0.5
  done
  mariadb --socket="$MARIADB_DIR/mariadb.sock" -uroot -e "
    CREATE USER 'icantkube'@'127.0.0.1' IDENTIFIED BY '$MARIADB_PASSWORD' REQUIRE SSL;
    GRANT ALL PRIVILEGES ON *.* TO 'icantkube'@'127.0.0.1';" ||
    { cat "$MARIADB_DIR/error.log"; return 1; }
  MARIADB_URL="mysql://icantkube:$MARIADB_PASSWORD@127.0.0.1:$MARIADB_PORT?ssl-mode=required"
  export MARIADB_URL MARIADB_PASSWORD MARIADB_DIR MARIADB_PID
}

mariadb_stop() {
  [ -n "${MARIADB_PID:-}" ] || return 0
  kill "$MARIADB_PID" 2>/dev/null || true
  wait "$MARIADB_PID" 2>/dev/null || true
  rm -rf "$MARIADB_DIR"
  unset MARIADB_PID
}
