# The icantkube image: one binary for every role (`serve`, `migrate`, `train --run-id N` in a
# training Job, `simulate`), the site bundle beside it, run as a non-root user.
#
#   buildah bud -f icantkube.Dockerfile -t icantkube .     (or docker build, from the repo root)
#
# Build arguments (the test command sets all three: it cannot pull images, see tests/image):
#   BUILDER   the image the build stage runs in: a Rust toolchain on Debian, as the README builds
#   RUNTIME   the runtime base: glibc, libgcc and CA certificates, with the user 65532
#   BINARIES  the stage or image whose /out holds the binary, the site and an empty data folder:
#             `build` (the default) builds them here; a name of an image built elsewhere skips it
ARG BUILDER=docker.io/library/rust:1.95-bookworm
ARG RUNTIME=gcr.io/distroless/cc-debian12:nonroot
ARG BINARIES=build

FROM ${BUILDER} AS build
WORKDIR /src
COPY . .
# The same build as the README's: setup.sh installs cargo-leptos, wasm-bindgen, binaryen and
# brotli; build-site.sh builds, names the site's files after their content and precompresses them.
ENV CARGO_TARGET_DIR=/src/target LEPTOS_SITE_ROOT=target/site
RUN scripts/setup.sh \
 && scripts/build-site.sh --release \
 && mkdir -p /out/data \
 && strip -o /out/icantkube target/release/icantkube \
 && cp -r target/site /out/site

FROM ${BINARIES} AS binaries

FROM ${RUNTIME}
COPY --from=binaries /out/icantkube /usr/local/bin/icantkube
COPY --from=binaries /out/site /usr/share/icantkube/site
# Where the embedded SQLite default lives when the image runs on its own (mount a volume);
# on Kubernetes DATABASE_URL names MariaDB and the root file system is read-only.
COPY --from=binaries --chown=65532:65532 /out/data /var/lib/icantkube
ENV LEPTOS_SITE_ROOT=/usr/share/icantkube/site \
    DATABASE_URL=sqlite:///var/lib/icantkube/icantkube.db \
    ICANTKUBE_LISTEN=0.0.0.0:3000 \
    ICANTKUBE_METRICS_LISTEN=0.0.0.0:9464
USER 65532:65532
WORKDIR /var/lib/icantkube
EXPOSE 3000 9464
ENTRYPOINT ["/usr/local/bin/icantkube"]
CMD ["serve"]
