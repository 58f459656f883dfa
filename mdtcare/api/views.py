"""The API's shared pieces: the token endpoint, who am I, and the gated
viewset base."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from mdtcare.accounts import two_factor
from mdtcare.accounts.selectors import memberships_cached
from mdtcare.audit.services import access_record


class TokenThrottle(AnonRateThrottle):
    scope = "token"


class TokenView(ObtainAuthToken):
    """``POST username`` and ``password`` (and ``code``, the authenticator
    app's, for those who must use a second factor: admins, by default), get
    ``{"token": …}`` for the ``Authorization: Token …`` header. Locked out
    like the log-in page."""

    throttle_classes = [TokenThrottle]

    @extend_schema(
        request=inline_serializer(
            "Token",
            {
                "username": serializers.CharField(),
                "password": serializers.CharField(),
                "code": serializers.CharField(
                    required=False,
                    help_text="The authenticator app's 6-digit code, for those who must use "
                    "a second factor (admins, by default)",
                ),
            },
        ),
        responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}),
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        error = two_factor.token_code_error(user, request.data.get("code"))
        if error is not None:
            raise serializers.ValidationError({"code": [error]})
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class MeNetworkSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="network.pk")
    code = serializers.CharField(source="network.code")
    name = serializers.CharField(source="network.name")
    role = serializers.CharField()


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    full_name = serializers.CharField()
    profession = serializers.CharField()
    networks = MeNetworkSerializer(many=True)


class MeView(APIView):
    """The authenticated user: username, profession and the networks they
    belong to with their role in each. Shows no patient data, so it writes
    no access event; one indexed query (the user's memberships) beyond
    authentication. Also the constant endpoint the benchmarks compare the
    API lists with."""

    @extend_schema(responses=MeSerializer, summary="Who am I")
    def get(self, request):
        user = request.user
        memberships = memberships_cached(request=request)
        data = {
            "username": user.username,
            "full_name": user.get_full_name(),
            "profession": user.profession,
            "networks": memberships,
        }
        return Response(MeSerializer(data).data)


class GatedReadOnlyViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """A read API over a model registered with the access gate.

    ``get_queryset`` always goes through ``visible_to(user)`` (outside it:
    404), and each list page or record read writes one access event naming
    the patients it returned (``audit_patient_ids``)."""

    audit_what = ""
    gated_queryset = None

    def get_queryset(self):
        return self.gated_queryset.visible_to(self.request.user)

    def audit_patient_ids(self, objects) -> tuple[list, set]:
        """(patient ids, network ids) of the objects returned."""
        raise NotImplementedError

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        objects = page if page is not None else list(queryset)
        self._record(objects, f"api.{self.audit_what}.list")
        serializer = self.get_serializer(objects, many=True)
        if page is not None:
            return self.get_paginated_response(serializer.data)
        return Response(serializer.data)

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        self._record([instance], f"api.{self.audit_what}.read")
        return Response(self.get_serializer(instance).data)

    def _record(self, objects, what):
        patient_ids, network_ids = self.audit_patient_ids(objects)
        access_record(
            request=self.request, what=what, patient_ids=patient_ids, network_ids=network_ids
        )
