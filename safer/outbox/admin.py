from django.contrib import admin, messages

from safer.outbox.models import DeadLetter, DeadLetterStatus, OutboxMessage
from safer.outbox.services import dead_letter_retry


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "task_name", "status", "attempts", "relayed_at"]
    list_filter = ["status", "task_name"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    """Tasks that failed for good. Fix the cause (the error says what it was), then send them
    again with the action: each goes back through the outbox with a new task id."""

    list_display = ["failed_at", "task_name", "attempts", "error", "status", "retried_at"]
    list_filter = ["status", "task_name"]
    readonly_fields = [f.name for f in DeadLetter._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    @admin.action(description="Send the selected tasks again")
    def retry(self, request, queryset):  # type: ignore[no-untyped-def]
        sent = 0
        for letter in queryset.filter(status=DeadLetterStatus.DEAD):
            if dead_letter_retry(dead_letter=letter, by=request.user) is not None:
                sent += 1
        skipped = queryset.count() - sent
        self.message_user(
            request,
            f"{sent} task(s) sent again"
            + (f"; {skipped} already sent again or not retryable." if skipped else "."),
            messages.SUCCESS if sent else messages.WARNING,
        )
