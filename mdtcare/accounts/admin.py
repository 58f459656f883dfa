from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from mdtcare.accounts import services
from mdtcare.accounts.models import Membership, Network, Organisation, User
from meetings.models import Action


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 1
    fields = ["network", "role"]
    autocomplete_fields = ["network"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "first_name",
        "last_name",
        "profession",
        "organisation",
        "is_active",
    ]
    list_filter = ["is_active", "profession", "memberships__network", "memberships__role"]
    list_select_related = ["organisation"]
    search_fields = ["username", "first_name", "last_name", "email"]
    autocomplete_fields = ["organisation"]
    inlines = [MembershipInline]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        ("Practitioner", {"fields": ["profession", "organisation"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "username",
                    "email",
                    "first_name",
                    "last_name",
                    "profession",
                    "organisation",
                    "password1",
                    "password2",
                ],
            },
        )
    ]
    actions = ["deactivate"]

    @admin.action(description="Deactivate the selected users and end their sessions")
    def deactivate(self, request, queryset):
        for user in queryset:
            services.user_deactivate(user=user, by=request.user)
        messages.success(request, f"{queryset.count()} user(s) deactivated.")


@admin.register(Network)
class NetworkAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "ods_code", "network"]
    list_filter = ["type", "network"]
    list_select_related = ["network"]
    search_fields = ["name", "ods_code"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "network" in form.changed_data:
            # A practice moved to another network: its people's actions go
            # with them (the network each action keeps).
            Action.objects.filter(patient__practice=obj).network_follow()


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "network", "role"]
    list_filter = ["network", "role"]
    list_select_related = ["user", "network"]
    autocomplete_fields = ["user", "network"]
