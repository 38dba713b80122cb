"""``shequ open311_client_create NAME``: a new Open311 client; its api_key is printed once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from shequ.cases.services_open311 import open311_client_create
from shequ.core.errors import ApiError


class Command(BaseCommand):
    help = "Create an Open311 client and print its api_key (shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the client's name (the system or organisation using the key)")
        parser.add_argument("--jurisdiction", default="", help="jurisdiction_id noted on the client")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            client, key = open311_client_create(name=options["name"], jurisdiction_id=options["jurisdiction"])
        except ApiError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            _("已创建 Open311 客户端“%(name)s”（编号 %(id)s）。") % {"name": client.name, "id": client.pk}
        )
        self.stdout.write(key)
        self.stdout.write(_("api_key 仅显示这一次，请妥善保存；系统只保存其摘要。"))
