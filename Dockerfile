# The krmfn function image. It also serves as the default model-downloader image: s3cmd is
# installed beside the function, so one pinned image does both jobs.
#
#   podman build -t krmfn .                    # base image and wheels from the registries
#   podman build --build-arg BASE_IMAGE=localhost/bookworm-python \
#     --build-arg PIP_OPTIONS="--no-index --find-links wheelhouse" -t krmfn .   # offline
ARG BASE_IMAGE=docker.io/library/python:3.12-slim-bookworm

FROM ${BASE_IMAGE} AS build
ARG PIP_OPTIONS=""
WORKDIR /src
COPY . .
RUN python3 -m venv /opt/krmfn \
 && /opt/krmfn/bin/pip install --no-cache-dir ${PIP_OPTIONS} '.[downloader]' \
 && /opt/krmfn/bin/python -m compileall -q /opt/krmfn \
 && rm -rf /opt/krmfn/lib/python3*/site-packages/pip /opt/krmfn/bin/pip*

FROM ${BASE_IMAGE}
COPY --from=build /opt/krmfn /opt/krmfn
ENV PATH=/opt/krmfn/bin:/usr/local/bin:/usr/bin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp
USER 65532:65532
ENTRYPOINT ["/opt/krmfn/bin/krmfn"]
