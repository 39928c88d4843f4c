# The krmfn function image. It also serves as the default model-downloader image: s3cmd is
# installed beside the function, so one pinned image does both jobs.
#
# The final stage starts from scratch and holds only what krmfn and s3cmd run on: the Python
# interpreter, the parts of its standard library that are imported, the shared libraries
# that ldd finds for the interpreter and its extension modules, the CA bundle, a passwd and
# group naming nonroot (uid/gid 65532, the image's user) and nobody (the user kpt and
# kustomize run functions as), and the virtual environment /opt/krmfn (installed from the
# hashed lock requirements/image.txt). No shell, no package manager. The build stage
# assembles it (containers/assemble_runtime.py) from whatever interpreter the base holds, so
# the same file builds linux/amd64 and linux/arm64.
#
#   podman build -t krmfn .                    # base image and wheels from the registries
#   podman build --build-arg BASE_IMAGE=localhost/bookworm-python \
#     --build-arg PIP_OPTIONS="--no-index --find-links wheelhouse" -t krmfn .   # offline
#
# BASE_IMAGE is Debian bookworm; python3, python3-venv and ca-certificates come from Debian
# (installed here unless the base already holds them, as scripts/build-image's base does).
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${BASE_IMAGE} AS build
ARG PIP_OPTIONS=""
# Debian's packages, as the bookworm release serves them (a stable release only takes fixes).
# hadolint ignore=DL3008
RUN if ! python3 -c 'import ensurepip' 2>/dev/null \
      || [ ! -f /etc/ssl/certs/ca-certificates.crt ]; then \
      apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
         python3 python3-venv ca-certificates \
      && rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /src
COPY . .
# setuptools (krmfn's build backend, in the lock) and pip leave the environment once krmfn is
# installed.
RUN python3 -m venv /opt/krmfn \
 && /opt/krmfn/bin/pip install --no-cache-dir --no-warn-script-location --require-hashes \
    ${PIP_OPTIONS} -r requirements/image.txt \
 && /opt/krmfn/bin/pip install --no-cache-dir --no-deps --no-build-isolation ${PIP_OPTIONS} . \
 && /opt/krmfn/bin/python -m pip uninstall --yes --quiet setuptools pip \
 && /opt/krmfn/bin/python containers/launcher.py /opt/krmfn/bin/krmfn \
 && python3 containers/assemble_runtime.py /stage /opt/krmfn
# The staged root on its own, as the final image runs it: the function and the downloader
# start as uid 65532, and https finds its CA certificates.
RUN env -i PATH=/opt/krmfn/bin HOME=/tmp TMPDIR=/tmp PYTHONDONTWRITEBYTECODE=1 \
    "$(command -v chroot)" --userspec=65532:65532 /stage python -c "import ssl, subprocess; \
assert ssl.create_default_context().get_ca_certs(), 'no CA certificates'; \
subprocess.run(['krmfn', '--version'], check=True); \
subprocess.run(['s3cmd', '--version'], check=True)"

FROM scratch
COPY --from=build /stage /
ENV PATH=/opt/krmfn/bin \
    HOME=/tmp \
    TMPDIR=/tmp \
    PYTHONDONTWRITEBYTECODE=1
USER 65532:65532
ENTRYPOINT ["/opt/krmfn/bin/krmfn"]
