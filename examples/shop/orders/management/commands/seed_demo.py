"""Fill the shop with a little data, so a reset can show that rows survive."""
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Address
from catalog.models import Category, Product, Tag
from orders.models import Order, OrderLine


class Command(BaseCommand):
    help = "Create demo customers, products and orders (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.filter(username="ada").exists():
            self.stdout.write("demo data already present")
            return
        ada = User.objects.create_user("ada", "ada@example.com", "unused", phone="+44 1", loyalty_points=12)
        bob = User.objects.create_user("bob", "bob@example.com", "unused")
        Address.objects.create(user=ada, city="London", street="1 Analytical Row")
        # Normally made by the data migration catalog.0003; a reset that
        # dropped that migration leaves a fresh database without them.
        books, _ = Category.objects.get_or_create(name="Books")
        games, _ = Category.objects.get_or_create(name="Games")
        classic = Tag.objects.create(name="classic")
        novel = Product.objects.create(name="Notes on the Engine", unit_price=Decimal("12.50"), category=books, sku="B-1")
        novel.tags.add(classic)
        chess = Product.objects.create(name="Chess", unit_price=Decimal("30.00"), category=games, sku="G-1")
        order = Order.objects.create(customer=ada, status="paid")
        OrderLine.objects.create(order=order, product=novel, quantity=2)
        OrderLine.objects.create(order=order, product=chess, quantity=1)
        Order.objects.create(customer=bob)
        self.stdout.write("demo data created")
