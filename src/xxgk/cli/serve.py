"""The `xxgk serve` command: open (or create) the cycle's data directory, say where the site is
and how to sign in, and run it with uvicorn.  The web stack is imported only when it runs."""

from __future__ import annotations

from pathlib import Path

import click

from xxgk.cli.usage import fail

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@click.command("serve")
@click.option("--data", "data", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Data directory of the cycle (created at the first start).")
@click.option("--year", type=click.IntRange(1990, 2100), required=True, help="统计年度 (reporting year).")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Roster CSV/XLSX (代码, 名称): the units that report.")
@click.option("--region", required=True, help="Region named in the summary (e.g. 沙坡头区).")
@click.option("--previous", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Last year's summary: each unit's year-over-year checks (kept in DATA for later starts).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--certfile", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="TLS certificate (HTTPS).")
@click.option("--keyfile", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="TLS private key.")
@click.option("--base-url", help="Address the units' links start with (default: from --host and --port).")
@click.option("--max-upload", type=click.IntRange(1, 500), default=20, show_default=True, help="Upload size limit, MB.")
@click.option("--unit-uploads-per-hour", "per_hour", type=click.IntRange(1, 10000), default=30, show_default=True, metavar="N",
              help="Uploads a unit may make in an hour (the office's are not counted).")
@click.option("--unit-mb-per-day", "mb_per_day", type=click.IntRange(1, 100000), default=200, show_default=True, metavar="MB",
              help="MB a unit may upload in 24 hours.")
@click.option("--keep-refused", type=click.IntRange(1, 10000), default=20, show_default=True, metavar="N",
              help="Refused files kept per unit (older ones are deleted; accepted ones never).")
@click.option("--proxy", metavar="IP", help="Address of the reverse proxy whose X-Forwarded-For is trusted (default: none).")
@click.option("--change-roster", is_flag=True, help="Take a roster that differs from the one the cycle was made with.")
@click.option("--reset-password", is_flag=True, help="Make a new office password (the old one stops working).")
def serve_cmd(data: Path, year: int, roster: Path, region: str, previous: Path | None, host: str, port: int, certfile: Path | None,
              keyfile: Path | None, base_url: str | None, max_upload: int, per_hour: int, mb_per_day: int,
              keep_refused: int, proxy: str | None, change_roster: bool, reset_password: bool) -> None:
    """Serve the cycle: units upload their returns, the office watches the register live.

    Prints the office's address and (at the first start) its password; writes DATA/单位链接.csv
    with every unit's link.
    """
    from xxgk.cycle.roster import RosterError, read_roster
    from xxgk.site.datadir import LINKS, SetupError, open_data, write_links

    if (certfile is None) != (keyfile is None):
        fail("--certfile 和 --keyfile 需同时给出 (give both --certfile and --keyfile)")
    if proxy is not None:
        import ipaddress

        try:
            proxy = str(ipaddress.ip_address(proxy.strip()))
        except ValueError:
            fail(f"--proxy 需为一个IP地址，而不是“{proxy}” (--proxy takes one IP address)")
    try:
        units = read_roster(roster)
        opened = open_data(data, year=year, roster=units, region=region.strip(), change_roster=change_roster,
                           reset_password=reset_password, previous=previous)
    except (RosterError, SetupError) as exc:
        fail(str(exc))
    scheme = "https" if certfile else "http"
    shown = host if host not in ("0.0.0.0", "::") else "127.0.0.1"
    base = (base_url or f"{scheme}://{shown}:{port}").rstrip("/")
    store = opened.store
    try:
        if opened.tokens:
            write_links(store, base, opened.tokens)
        # said before anything slow can fail: the password is shown only now
        click.echo(f"{opened.region}{year}年度统计表报送网站 ({opened.form.name})")
        click.echo(f"办公室地址 (office): {base}/office")
        if opened.password:
            click.echo(f"办公室密码 (password): {opened.password}  （只显示这一次，请记下）")
        else:
            click.echo("办公室密码：首次启动时显示的密码；如已遗忘，请加 --reset-password 重新生成")
        click.echo(f"单位链接 (links): {store.data / LINKS}")
        if host not in LOCAL_HOSTS and certfile is None:
            click.echo("警告 (warning): 在非本机地址上未启用HTTPS，密码和链接会以明文在网络上传输；"
                       "请用 --certfile/--keyfile 启用HTTPS (serving beyond localhost without TLS)", err=True)
        store.sweep()
        for problem in store.consistency():
            click.echo(f"警告 (warning): {problem}", err=True)
        from xxgk.site.app import Settings, create_app
        from xxgk.site.http import MB
        from xxgk.site.service import Readers, Service

        readers = Readers()
        service = Service(store, opened.form, year, opened.region, readers, previous=opened.previous)
        try:
            app = create_app(service, Settings(base_url=base, max_upload=max_upload * MB,
                                             secure_cookies=certfile is not None, uploads_per_hour=per_hour,
                                             bytes_per_day=mb_per_day * MB, keep_refused=keep_refused))
            from xxgk.site.server import serve

            serve(app, host=host, port=port, certfile=certfile, keyfile=keyfile, proxy=proxy)
        finally:
            service.close()
            readers.close()
    finally:
        store.close()
