# Source this to use the project's engine in your own shell:   source scripts/engine_env.sh
# Puts the pinned Pulumi CLI first on PATH and keeps plugins and CLI settings in .engine/home,
# so nothing here reads or writes your own ~/.pulumi (credentials, backends).
# IM_ACCESS_ENGINE_DIR moves the whole engine elsewhere (default: .engine in the project).
_im_access_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
# shellcheck source=../engine/versions.env
. "$_im_access_root/engine/versions.env"
_im_access_engine="${IM_ACCESS_ENGINE_DIR:-$_im_access_root/.engine}"
export PULUMI_ROOT="$_im_access_engine/pulumi-$PULUMI_VERSION"
export PULUMI_HOME="$_im_access_engine/home"
export PATH="$PULUMI_ROOT/bin:$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true
unset _im_access_root _im_access_engine
