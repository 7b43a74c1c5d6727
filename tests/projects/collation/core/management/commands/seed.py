from django.core.management.base import BaseCommand

from core.models import Site
from dcim.models import Device
from ipam.models import Prefix


class Command(BaseCommand):
    def handle(self, *args, **options):
        site = Site.objects.create(name="dc10")
        for name in ("sw2", "sw10", "sw1"):
            Device.objects.create(name=name, site=site)
        Prefix.objects.create(prefix="10.0.0.0/8", description="net 10")
