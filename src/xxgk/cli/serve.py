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
@click.option("--base-url", help="Address the units' links start with, as the units will open it, e.g. "
              "http://192.168.1.10:8000 (kept in DATA for later starts; default: from --host and --port).")
@click.option("--deadline", help="报送截止日期 YYYY-MM-DD, shown to every unit (kept in DATA; the office can change it).")
@click.option("--contact", help="The office's name and phone shown to the units, e.g. '区政务公开办 张三 0955-1234567' "
              "(kept in DATA; the office can change it).")
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
              keyfile: Path | None, base_url: str | None, deadline: str | None, contact: str | None,
              max_upload: int, per_hour: int, mb_per_day: int, keep_refused: int, proxy: str | None,
              change_roster: bool, reset_password: bool) -> None:
    """Serve the cycle: units upload their returns, the office watches the register live.

    Prints the office's address and (at the first start) its password; the office hands the
    units their links from its 发放链接 page (also written to DATA/单位链接.csv).  The links start
    with --base-url: give the address the units' computers will open (this computer's address on
    the network, or its domain name); it is kept for later starts.
    """
    import os

    from xxgk.cycle.roster import RosterError, read_roster
    from xxgk.site.datadir import (
        LINKS,
        SetupError,
        check_base_url,
        cycle_settings,
        open_data,
        parse_deadline,
        save_settings,
        write_links,
    )

    if (certfile is None) != (keyfile is None):
        fail("--certfile 和 --keyfile 需同时给出 (give both --certfile and --keyfile)")
    if proxy is not None:
        import ipaddress

        try:
            proxy = str(ipaddress.ip_address(proxy.strip()))
        except ValueError:
            fail(f"--proxy 需为一个IP地址，而不是“{proxy}” (--proxy takes one IP address)")
    mask = os.umask(0o077)  # what the site writes is the office's alone
    try:
        wanted_base = check_base_url(base_url) if base_url else None
        wanted_deadline = parse_deadline(deadline, year) if deadline else None
        units = read_roster(roster)
        opened = open_data(data, year=year, roster=units, region=region.strip(), change_roster=change_roster,
                           reset_password=reset_password, previous=previous)
    except (RosterError, SetupError) as exc:
        os.umask(mask)
        fail(str(exc))
    store = opened.store
    try:
        save_settings(store, base_url=wanted_base, deadline=wanted_deadline, contact=contact, who="办公室（启动参数）")
        kept = cycle_settings(store)
        scheme = "https" if certfile else "http"
        everywhere = host in ("0.0.0.0", "::")
        shown = "127.0.0.1" if everywhere else host
        base = kept.base_url or f"{scheme}://{shown}:{port}"
        write_links(store, base)
        # said before anything slow can fail: the password is shown only now
        click.echo(f"{opened.region}{year}年度统计表报送网站 ({opened.form.name})")
        click.echo(f"办公室地址 (office): {base}/office")
        if opened.password:
            click.echo(f"办公室密码 (password): {opened.password}  （只显示这一次，请记下）")
        else:
            click.echo("办公室密码：首次启动时显示的密码；如已遗忘，请加 --reset-password 重新生成")
        click.echo(f"单位链接 (links): 登录后打开“发放链接”页复制、打印或导出；也已写入 {store.data / LINKS}")
        if kept.base_url:
            click.echo(f"链接地址 (base URL): {kept.base_url}（已保存在数据目录；如需更改，请加 --base-url 或在“设置”页修改）")
        elif everywhere or host not in LOCAL_HOSTS:
            click.echo(f"注意 (note): 单位链接目前以 {base} 开头，其他电脑打不开；请加 --base-url http://本机在局域网中的地址:{port}"
                       " 重新启动，或登录后在“设置”页填写链接地址 (links need --base-url: the address units will open)",
                       err=True)
        else:
            click.echo(f"注意 (note): 单位链接以 {base} 开头，只能在本机打开；要发给各单位，请加 --base-url"
                       " http://本机在局域网中的地址:端口 (links work on this computer only; give --base-url)")
        if kept.deadline:
            click.echo(f"报送截止 (deadline): {kept.deadline.isoformat()}")
        if host not in LOCAL_HOSTS and certfile is None:
            click.echo("警告 (warning): 在非本机地址上未启用HTTPS，密码和链接会以明文在网络上传输；"
                       "请用 --certfile/--keyfile 启用HTTPS (serving beyond localhost without TLS)", err=True)
        store.sweep()
        for problem in store.consistency():
            click.echo(f"警告 (warning): {problem}", err=True)
        from xxgk.site.app import Settings, create_app
        from xxgk.site.http import MB
        from xxgk.site.service import Service, workers

        readers = workers()
        service = Service(store, opened.form, year, opened.region, readers, previous=opened.previous)
        if service.rejudged:
            click.echo(f"已按登记的上年数据重新核对{service.rejudged}份报表的结论（使用已保存的读取结果，未重新读取文件）")
        try:
            app = create_app(service, Settings(base_url=f"{scheme}://{shown}:{port}", max_upload=max_upload * MB,
                                             secure_cookies=certfile is not None, uploads_per_hour=per_hour,
                                             bytes_per_day=mb_per_day * MB, keep_refused=keep_refused))
            from xxgk.site.server import serve

            serve(app, host=host, port=port, certfile=certfile, keyfile=keyfile, proxy=proxy)
        finally:
            service.close()
            readers.close()
    finally:
        store.close()
        os.umask(mask)
