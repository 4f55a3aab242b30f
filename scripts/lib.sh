# Helpers shared by scripts/test and scripts/demo: install what a fresh Debian machine lacks.
step() { printf '\n== %s ==\n' "$*"; }

# The shared conformance data sits beside the repository (../shared); CLEARWAY_SHARED overrides.
shared_dir() {
  local d="${CLEARWAY_SHARED:-$(cd .. && pwd)/shared}"
  if [ ! -d "$d/conformance" ]; then
    echo "shared data not found at $d (set CLEARWAY_SHARED)" >&2
    return 1
  fi
  printf '%s' "$d"
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

need_apt_tool() { # need_apt_tool COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 || apt_install "$2"
}

need_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: install the Rust toolchain (rustup) first" >&2
    exit 1
  fi
}

need_python() { need_apt_tool python3 python3; }

# pyiso8583 (PyPI) is the independent implementation the ISO 8583 cross-check test runs.
need_pyiso8583() {
  python3 -c 'import iso8583' 2>/dev/null && return 0
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  python3 -m pip install -q pyiso8583==4.0.1 2>/dev/null \
    || python3 -m pip install -q --break-system-packages pyiso8583==4.0.1
}

# RabbitMQ from Debian's packages, started detached when it is not running.
need_rabbitmq() {
  command -v rabbitmq-server >/dev/null 2>&1 || apt_install rabbitmq-server
  if ! rabbitmqctl -q status >/dev/null 2>&1; then
    rabbitmq-server -detached >/dev/null 2>&1 || true
    # await_startup gives up at once while the node is still booting: retry for a minute
    for _ in $(seq 1 30); do
      rabbitmqctl -q await_startup --timeout 60 >/dev/null 2>&1 && break
      sleep 2
    done
  fi
  rabbitmqctl -q await_startup --timeout 60
}

# PostgreSQL 15 (installed on these machines; the package otherwise), with a `clearway` role
# that may create databases: the tests make one database each and drop it.
need_postgres() {
  command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql-15
  pg_ctlcluster 15 main start >/dev/null 2>&1 || true
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 1
  done
  su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='clearway'\"" | grep -q 1 \
    || su postgres -c "psql -qc \"CREATE ROLE clearway LOGIN CREATEDB PASSWORD 'clearway'\""
  su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='clearway'\"" | grep -q 1 \
    || su postgres -c "createdb -O clearway clearway"
}
