"""What ``caucus-bot check-config`` prints: the config as a person reads it, secrets withheld."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from bot.config import Config
from storage.crypto import UNENCRYPTED_WARNING, parse_keys


def summarise(config: Config) -> str:
    out = [f"{config.source}: OK",
           f"  time zone: {config.bot.timezone} (numeric dates read {config.bot.date_order})",
           f"  database: {make_url(config.bot.database_url).render_as_string(hide_password=True)}",
           f"  command prefixes: {' '.join(config.bot.command_prefixes)}",
           f"  admins: {', '.join(config.bot.admins) or 'none (nobody can grant roles)'}"]
    tg = config.telegram
    if tg is None:
        out.append("  telegram: not configured")
    else:
        source = "from CAUCUS_TELEGRAM_TOKEN" if tg.token_from_env else "from the file"
        mode = f"webhook at {tg.webhook_url}" if tg.mode == "webhook" else "polling"
        out.append(f"  telegram: {mode}, token set ({source}), API {tg.base_url}")
    mx = config.matrix
    if mx is None:
        out.append("  matrix: not configured")
    else:
        secret = "access token" if mx.access_token else "password"
        source = "from the environment" if mx.secret_from_env else "from the file"
        out.append(f"  matrix: {mx.user_id} on {mx.homeserver}, {secret} set ({source}), "
                   f"store {mx.store_path}")
    out.append(f"  rooms ({len(config.rooms)}):")
    for room in config.rooms:
        traits = ["bridged pair" if room.bridged else "single network",
                  *([f"forum topic {room.telegram_topic_id} of the group "
                     f"{room.telegram_chat_id}"] if room.telegram_topic_id else []),
                  "secure" if room.secure else "not secure",
                  "reminders on" if room.reminders else "reminders off"]
        unserved = [cid for cid in room.ids
                    if (cid.startswith("telegram:") and tg is None)
                    or (cid.startswith("matrix:") and mx is None)]
        if unserved:
            traits.append(f"no network section for {', '.join(unserved)}")
        out.append(f"    - {room.name}: {' <-> '.join(room.ids)} ({', '.join(traits)})")
    r = config.reminders
    out.append(f"  reminders: sessions {list(r.session_offsets_days)} days before, deadlines "
               f"{list(r.deadline_offsets_days)} days before, at {r.send_time:%H:%M}, grace "
               f"{r.grace_hours:g} h")
    out.append(_web(config))
    out.append(_data_key(config))
    m = config.metrics
    out.append(f"  health and metrics: http://{m.listen}:{m.port}/healthz and /metrics"
               if m is not None else "  health and metrics: off (no [metrics] table)")
    out.append(f"  log format: {config.bot.log_format}")
    return "\n".join(out)


def _web(config: Config) -> str:
    web = config.web
    if web is None:
        return "  web: no sign-on pages ([web] not configured)"
    local = urlsplit(web.public_url).hostname in ("127.0.0.1", "localhost", "::1")
    proxies = ", ".join(map(str, web.trusted_proxies)) or "none"
    return (f"  web: sign-on pages on {web.listen}:{web.port}, public address "
            f"{web.public_url}{' (only this machine can open it: set public_url)' if local else ''}"
            f", review {'on' if web.review else 'off'}, {web.submissions_per_hour} posts an hour "
            f"per address, trusted proxies: {proxies}")


def _data_key(config: Config) -> str:
    privacy = config.privacy
    if privacy.data_key is None:
        return f"  WARNING: {UNENCRYPTED_WARNING}"
    source = "from CAUCUS_DATA_KEY" if privacy.key_from_env else f"from {privacy.key_file}"
    count = len(parse_keys(privacy.data_key))
    also = f"; {count - 1} older key{'s' if count > 2 else ''} to read with" if count > 1 else ""
    return f"  data key: set ({source}); confidential text is encrypted at rest{also}"
